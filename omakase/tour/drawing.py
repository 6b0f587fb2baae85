"""How the tour draws: its palette and style, its fonts, and the small helpers every chapter's figures share.

Colours are the Okabe-Ito palette and colour maps are cividis (sequential) and
PuOr (diverging), all readable with colour-blind vision. The figures' words
("figtext.*" in the catalogues) are in the tour's language when matplotlib has a
font for it; without a CJK font, Chinese figures would draw empty boxes, so they
fall back to English (`figure_language`) and the tour says so in one line.

matplotlib is imported only inside the functions that draw: a tour whose figures
are all kept from the last one never pays for importing it.
"""

from __future__ import annotations

import math
from pathlib import Path

from .story import Catalogue

BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
GREY = "#999999"  # Okabe-Ito's ninth colour (as in R's palette.colors): the bell, reference lines
DPI = 110

STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
         # no layout engine from the rc: each figure has its own (`subplots`), and draw_one saves with none
         "figure.autolayout": False, "figure.constrained_layout.use": False,
         "font.monospace": ["DejaVu Sans Mono"]}  # matplotlib's own: a family it lacks would be warned about
CJK_FAMILY = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk, found by matplotlib under this family name
# Latin letters and digits keep matplotlib's own font; what it lacks (Chinese) falls back to the CJK font
CJK_STYLE = {"font.family": ["DejaVu Sans", CJK_FAMILY],
             "font.monospace": ["DejaVu Sans Mono", CJK_FAMILY.replace("Sans", "Sans Mono")]}


def monospace() -> list[str]:
    """The monospace families as a list: a list lets matplotlib fall back font by font (the generic name would not)."""
    import matplotlib

    return list(matplotlib.rcParams["font.monospace"])


def has_cjk_font() -> bool:
    """Whether matplotlib can draw with CJK_FAMILY; a font installed after matplotlib cached its font list is
    missing from that list, so the system's CJK font files are looked for and registered once."""
    from matplotlib import font_manager

    def known() -> bool:
        return any(font.name == CJK_FAMILY for font in font_manager.fontManager.ttflist)

    if not known():
        for path in font_manager.findSystemFonts():
            if "SansCJK" in Path(path).name.replace(" ", ""):
                font_manager.fontManager.addfont(path)
    return known()


def figure_language(lang: str) -> str:
    """The language the figures can be labelled in here: the tour's, unless it needs a font that is missing."""
    return lang if lang == "en" or has_cjk_font() else "en"


def style(lang: str) -> dict:
    """The rcParams a figure labelled in `lang` is drawn with (a drawing process registers the CJK font too)."""
    return {**STYLE, **(CJK_STYLE if lang != "en" and has_cjk_font() else {})}


class FigureWords:
    """The figures' words in one language: w(key, **values) reads "figtext.<key>"; w.lang names the language
    (for words kept elsewhere, such as a dial's name in anatomy.json)."""

    def __init__(self, lang: str):
        self.lang, self.catalogue = lang, Catalogue(lang)

    def __call__(self, key: str, **values) -> str:
        return self.catalogue(f"figtext.{key}", **values)


def words(lang: str) -> FigureWords:
    """The figures' words in `lang`: w(key, **values)."""
    return FigureWords(lang)


def subplots(*grid, figsize, **options):
    """A figure of its own (no pyplot, no global registry of figures) and its axes, laid out by the
    constrained layout engine."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(*grid, **options)


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_labels(axis, powers: bool = True) -> None:
    """Label a log axis's powers of ten in plain text: 10⁶ (powers) or 0.01 and 100 (not powers).

    matplotlib's own labels are mathtext, whose parser costs each drawing process about 0.2 s to load;
    no other figure needs it.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    def label(x: float, _position) -> str:
        return "10" + str(round(math.log10(x))).translate(SUPERSCRIPT) if powers else f"{x:g}"

    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())  # unlabelled, as matplotlib leaves them over several decades


def rectangle(xy: tuple, width: float, height: float, **options):
    """A rectangle patch: a tile drawn on the axes, or a colour swatch for a legend."""
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, **options)


def course_label(course: str, w) -> str:
    """A course as a figure shows it: the bell by its word in the figure's language, the space as ␣."""
    return w("bell") if course == "<bell>" else "␣" if course == " " else course


def box(ax, x: float, y: float, text: str, colour: str = SKY) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": BLACK, "linewidth": 0.6})


def arrow(ax, start: tuple, end: tuple, label: str) -> None:
    ax.annotate("", end, start, arrowprops={"arrowstyle": "-|>", "color": BLACK, "shrinkA": 22, "shrinkB": 22})
    ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.25, label, ha="center", fontsize=9, color=VERMILLION)
