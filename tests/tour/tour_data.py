"""What the tour's tests share: the made-up records, the small plan, readers of told text, CSV and SVG, and a
phone-wide Chromium page."""

import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import pytest

from omakase import train as training
from omakase.tour import chapters, story

# Made-up words, no "emma" among them: the tour must pick its own example and say so.
WORDS = ["zorp", "blick", "mava", "tessa", "quill", "ronda", "fipo", "garu", "hemi", "jolt", "kivo", "lumen",
         "nari", "opal", "prue", "sable", "tovi", "urla", "vesk", "wyn", "yara", "zeno", "bramo", "cilla",
         "dovi", "elko", "fenna", "gilt", "hollo", "ivra", "jessa", "kora", "lind", "moss", "nello", "orin"]
SMALL = training.Plan(steps=30, lr=0.01, batch_size=1, warmup=0, seed=42)


def told(measured, lang="en") -> str:
    """Every sentence of the tour, as one text."""
    t = story.Catalogue(lang)
    return "\n".join(b.text for n, d in measured.items() for b in chapters.tell(n, d, t).blocks
                     if isinstance(b, story.Para))


def csv_rows(rows: list[list]) -> list[dict]:
    """A figure's CSV rows (header first) as dicts."""
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def svg_text(path) -> str:
    """Every word written in an SVG figure (the tour keeps its text as text: svg.fonttype none)."""
    return " ".join(t.text or "" for t in ET.parse(path).iter() if t.tag.endswith("text"))


CHROMIUM = Path("/usr/bin/chromium")  # Debian's (apt-get install chromium), driven by the playwright package
PHONE = 390  # px: the narrowest common phone width
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                                                                 "(apt-get install chromium)")


@contextmanager
def phone_page():
    """A headless Chromium page PHONE pixels wide (the playwright package, never its own browser download)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield browser.new_page(viewport={"width": PHONE, "height": 800})
        finally:
            browser.close()


def terminal_lines(told: list, t, *tables) -> list[str]:
    """Told chapters (and tables) as the terminal prints them at 80 columns, without colour."""
    import io

    from rich.console import Console

    from omakase.tour import telling

    console = Console(file=io.StringIO(), width=80, color_system=None)
    for chapter in told:
        telling.print_chapter(console, chapter, t, {})
    for table in tables:
        console.print(telling.rich_table(table))
    return console.file.getvalue().splitlines()


def assert_fits_80_columns(lines: list[str]) -> None:
    """Nothing wider than 80 cells (a Chinese character takes two: rich's cell_len), every table row closed
    (a squeezed table is cut at the right edge), and no line or table-cell line starting with a closing mark
    such as "，" or "：" (the kinsoku rule)."""
    from rich.cells import cell_len

    too_wide = [line for line in lines if cell_len(line.rstrip()) > 80]
    assert not too_wide, too_wide[:3]
    rows = [line.rstrip() for line in lines if line.startswith(("┃", "│", "┏", "┡", "└"))]
    cut = [row for row in rows if not row.endswith(("┃", "│", "┓", "┩", "┘"))]
    assert not cut, cut[:3]
    starts = [cell.strip() for line in lines for cell in line.strip("┃│ ").split("│") if cell.strip()]
    closing = [s for s in starts if s[0] in "，。、：；！？）"]
    assert not closing, closing[:3]
