"""The tour's figures, drawn from the chapters' live data with matplotlib.

Each figure is written three ways into the output folder: PNG (for slides),
SVG (for the page, crisp at any size, and for print) and CSV (the numbers behind it, so anyone can
redraw or check it). The alt text goes into the PNG and SVG metadata too.

Colours are the Okabe-Ito palette and colour maps are cividis (sequential) and
PuOr (diverging), all readable with colour-blind vision. The figures' words
("figtext.*" in the catalogues) are in the tour's language when matplotlib has a
font for it; without a CJK font, Chinese figures would draw empty boxes, so they
fall back to English (`figure_language`) and the tour says so in one line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
GREY = "#999999"  # Okabe-Ito's ninth colour (as in R's palette.colors): the bell, reference lines
DPI = 110

STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
         "figure.constrained_layout.use": True,
         "font.monospace": ["DejaVu Sans Mono"]}  # matplotlib's own: a family it lacks would be warned about
CJK_FAMILY = "Noto Sans CJK SC"  # Debian's fonts-noto-cjk, found by matplotlib under this family name
# Latin letters and digits keep matplotlib's own font; what it lacks (Chinese) falls back to the CJK font
CJK_STYLE = {"font.family": ["DejaVu Sans", CJK_FAMILY],
             "font.monospace": ["DejaVu Sans Mono", CJK_FAMILY.replace("Sans", "Sans Mono")]}


def monospace() -> list[str]:
    """The monospace families as a list: a list lets matplotlib fall back font by font (the generic name would not)."""
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


def words(lang: str):
    """The figures' words in `lang`: w(key, **values)."""
    from .story import Catalogue

    t = Catalogue(lang)
    return lambda key, **values: t(f"figtext.{key}", **values)


def order(d: dict, w):
    fig, ax = subplots(figsize=(6, 3))
    rows = [["menu", "position", "next_course", "probability", "penalty"]]
    for i, (name, key, colour) in enumerate(((d["example"], "courses_example", BLUE),
                                              (d["reversed"], "courses_reversed", ORANGE))):
        penalties = [-math.log(p) for _, p in d[key]]
        xs = [x + (i - 0.5) * 0.4 for x in range(len(penalties))]
        ax.bar(xs, penalties, width=0.4, color=colour, label=f'"{name}"')
        for pos, (course, p) in enumerate(d[key]):
            ax.annotate(course_label(course, w), (xs[pos], penalties[pos]), ha="center", va="bottom", fontsize=7)
            rows.append([name, pos + 1, course, p, -math.log(p)])
    ax.set(xlabel=w("order.x"), ylabel=w("penalty_axis"), title=w("order.title"))
    ax.legend(frameon=False)
    return fig, rows


def records(d: dict, w):
    """The reveal of chapter 1's question: a few menus as written, and how long all of them are."""
    fig, (left, right) = subplots(1, 2, figsize=(7.5, 3), width_ratios=[1, 2.6])
    n = len(d["sample"])
    for i, menu in enumerate(d["sample"]):
        left.text(0, n - 1 - i, menu, family=monospace(), fontsize=8, va="center")
        left.text(1, n - 1 - i, str(len(menu)), fontsize=8, va="center", ha="right", color=GREY)
    left.set(xlim=(0, 1), ylim=(-0.7, n - 0.3), title=w("records.sample"))
    left.axis("off")
    lengths, counts = zip(*d["lengths"])
    longer = [length > d["example_courses"] for length in lengths]
    right.bar(lengths, counts, color=[ORANGE if x else BLUE for x in longer])
    right.set(xlabel=w("records.x"), ylabel=w("records.y"),
              title=w("records.title", longer=f'{d["longer"]:,}', n_docs=f'{d["n_docs"]:,}', example=d["example"],
                      courses=d["example_courses"]))
    right.legend(handles=[Rectangle((0, 0), 1, 1, color=BLUE), Rectangle((0, 0), 1, 1, color=ORANGE)],
                 labels=[w("records.short", courses=d["example_courses"]), w("records.long")], frameon=False,
                 fontsize=8)
    rows = [["kind", "courses", "value"]] + [["menus_of_this_length", length, c] for length, c in d["lengths"]]
    return fig, rows + [["sample_menu", len(menu), menu] for menu in d["sample"]]


def tokens(d: dict, w):
    n = len(d["tokens"])
    fig, ax = subplots(figsize=(1.1 * n + 0.5, 1.6))
    for i, (label, token) in enumerate(zip(d["token_labels"], d["tokens"])):
        bell = token == d["bell"]
        ax.add_patch(Rectangle((i + 0.05, 0.05), 0.9, 0.9, color=ORANGE if bell else SKY))
        ax.text(i + 0.5, 0.62, w("bell") if bell else label, ha="center", va="center", fontsize=12)
        ax.text(i + 0.5, 0.25, str(token), ha="center", va="center", fontsize=11, weight="bold")
    ax.set(xlim=(0, n), ylim=(0, 1), title=w("tokens.title", example=d["example"]))
    ax.axis("off")
    return fig, [["position", "course", "token_id"]] + [[i, lab, tok] for i, (lab, tok) in
                                                       enumerate(zip(d["token_labels"], d["tokens"]))]


def card_map(d: dict, w):
    """Every flavor card as a point (PCA: the two directions the cards spread most), before and after training."""
    fig, axes = subplots(1, 2, figsize=(8, 4))
    rows = [["when", "course", "vowel", "x", "y"]]
    vowels = set(d["vowels"])
    colour = lambda label: ORANGE if label in vowels else GREY if label == "<bell>" else BLUE  # noqa: E731
    for ax, when in zip(axes, ("before", "after")):
        flat = d[f"map_{when}"]
        xs, ys = zip(*flat["points"])
        ax.scatter(xs, ys, s=130, c=[colour(label) for label in d["labels"]], alpha=0.35, linewidths=0)
        for label, x, y in zip(d["labels"], xs, ys):
            ax.text(x, y, course_label(label, w), ha="center", va="center", fontsize=8,
                    weight="bold" if label in vowels else "normal")
            rows.append([when, label, label in vowels, x, y])
        far = d["vowel_distances"][when]  # measured on all the card's numbers, not on the squeezed map
        title = w(f"card_map.{when}") + ("\n" + w("card_map.apart", vowels=f"{far['among_vowels']:.2f}",
                                                  mixed=f"{far['vowel_consonant']:.2f}") if far else "")
        ax.set(title=title, xticks=[], yticks=[], xlabel=w("card_map.kept", kept=f"{100 * flat['kept']:.0f}"))
        ax.margins(0.08)
    fig.suptitle(w("card_map.title"), fontsize=9)
    return fig, rows


def attention(d: dict, w):
    fig, ax = subplots(figsize=(0.9 * len(d["served"]) + 2.4, 2.8))
    image = ax.imshow(d["attention"], cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for h, weights in enumerate(d["attention"]):
        for pos, share in enumerate(weights):
            ax.text(pos, h, f"{100 * share:.0f}%", ha="center", va="center", color="white" if share < 0.5 else "black")
    ax.set_xticks(range(len(d["served"])), [f"{i + 1}: {course_label(s, w)}"
                                            for i, s in enumerate(d["served"])])
    ax.set_yticks(range(len(d["attention"])), [w("attention.chef", n=h + 1) for h in range(len(d["attention"]))])
    ax.set(title=w("attention.title"), xlabel=w("attention.x"))
    fig.colorbar(image, ax=ax, shrink=0.8)
    rows = [["head", "position", "course", "weight"]] + [
        [h + 1, pos + 1, d["served"][pos], share]
        for h, shares in enumerate(d["attention"]) for pos, share in enumerate(shares)]
    return fig, rows


def assembly_line(d: dict, w):
    """One course's own numbers at each station of the line, then the vote they end in."""
    stations = [(key, w(f"assembly.{key}")) for key in ("embedding", "cleansed", "after_attention", "after_mlp")]
    fig, axes = subplots(1, 5, figsize=(10, 2.6), width_ratios=[1, 1, 1, 1, 0.8])
    # one scale for the four stations, so the cleanser's rescaling shows as it is
    top = 1.1 * max(abs(v) for key, _ in stations for v in d["stations"][key])
    rows = [["station", "index", "value"]]
    for i, (ax, (key, title)) in enumerate(zip(axes, stations)):
        values = d["stations"][key]
        ax.bar(range(1, len(values) + 1), values, color=[BLUE if v > 0 else ORANGE for v in values])
        ax.axhline(0, color=BLACK, linewidth=0.6)
        ax.set(title=title + "\n" + w("assembly.size", size=f"{math.sqrt(sum(v * v for v in values)):.2f}"),
               ylim=(-top, top), xticks=[1, len(values)], xlabel=w("assembly.x"))
        if i:
            ax.set_yticklabels([])
        rows += [[key, i + 1, v] for i, v in enumerate(values)]
    labels = [course_label(c, w) for c, _ in d["vote"]][::-1]
    shares = [p for _, p in d["vote"]][::-1]
    axes[4].barh(labels, shares, color=[GREEN if c == d["truth"] else SKY for c, _ in d["vote"]][::-1])
    axes[4].set(title=w("assembly.vote"), xlabel=w("assembly.share"), xlim=(0, 1))
    rows += [["vote", c, p] for c, p in d["vote"]]
    served = " ".join(course_label(c, w) for c in d["served"])
    fig.suptitle(w("assembly.title", served=served, truth=d["truth"]), fontsize=9)
    return fig, rows


def supporting_roles(d: dict, w):
    """The sizes the story tells: the cleanser's rescaling, and the stock each spoonful is stirred into."""
    end = w("roles.end") if d["n_layer"] == 1 else w("roles.end_lines", n=d["n_layer"])
    steps = [(w("roles.card"), d["embedding"], BLUE), (w("roles.cleansed"), d["cleansed"], GREEN),
             (w("roles.spoon_attention"), d["added"], ORANGE), (w("roles.after_attention"), d["after_attention"], BLUE),
             (w("roles.spoon_mlp"), d["mlp_added"], ORANGE), (end, d["after_mlp"], BLUE)]
    fig, ax = subplots(figsize=(6.5, 2.8))
    ax.barh([s for s, _, _ in steps][::-1], [v for _, v, _ in steps][::-1], color=[c for _, _, c in steps][::-1])
    for i, (_, v, _) in enumerate(steps[::-1]):
        ax.annotate(f"{v:.2f}", (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    target = math.sqrt(d["n_embd"])  # a cleansed portion has every number about 1 in size: sqrt(n) in all
    ax.axvline(target, color=BLACK, linestyle=":", linewidth=0.8)
    ax.annotate(w("roles.target", n=d["n_embd"]), (target, len(steps) - 0.5), xytext=(3, 0),
                textcoords="offset points", fontsize=7)
    ax.set(xlabel=w("roles.x"), title=w("roles.title"))
    return fig, [["step", "size"]] + [[s, v] for s, v, _ in steps]


def back_kitchen(d: dict, w):
    fig, ax = subplots(figsize=(7, 2.8))
    pre = d["mlp_pre"]
    ax.bar(range(len(pre)), pre, color=[GREEN if x > 0 else VERMILLION for x in pre], width=0.8)
    ax.axhline(0, color=BLACK, linewidth=0.8)
    ax.set(title=w("back.title", passed=d["passed"], width=d["width"]), xlabel=w("back.x"), ylabel=w("back.y"))
    ax.legend(handles=[Rectangle((0, 0), 1, 1, color=GREEN), Rectangle((0, 0), 1, 1, color=VERMILLION)],
              labels=[w("back.passed"), w("back.dumped")], frameon=False, fontsize=8)
    return fig, [["unit", "before_relu", "after_relu"]] + [[i, x, max(0.0, x)] for i, x in enumerate(pre)]


def back_kitchen_typical(d: dict, w):
    """How many ideas usually pass quality control, course after course of locked-away menus, and this moment."""
    typical, width = d["typical"], d["typical"]["width"]
    counts = [0] * (width + 1)
    for passed in typical["passed"]:
        counts[passed] += 1
    top = max(i for i, c in enumerate(counts) if c) + 1
    fig, ax = subplots(figsize=(6, 2.8))
    ax.bar(range(top + 1), counts[: top + 1], color=SKY, width=0.9)
    ax.axvline(typical["share"] * width, color=BLUE, linestyle="--",
               label=w("typical.usual", share=f"{100 * typical['share']:.1f}"))
    ax.axvline(d["passed"], color=VERMILLION,
               label=w("typical.now", passed=d["passed"], share=f"{100 * d['passed'] / width:.1f}"))
    ax.set(xlabel=w("typical.x", width=width), ylabel=w("typical.y"),
           title=w("typical.title", courses=f"{len(typical['passed']):,}", menus=f"{typical['menus']:,}"))
    ax.legend(frameon=False, fontsize=8)
    return fig, [["ideas_passed", "courses"]] + [[i, c] for i, c in enumerate(counts)]


def penalty(d: dict, w):
    fig, ax = subplots(figsize=(5.5, 3))
    ps = [10 ** (-3.2 + 3.2 * i / 200) for i in range(201)]
    ax.plot(ps, [-math.log(p) for p in ps], color=BLUE)
    for p, pen in d["penalties"]:
        ax.plot([p], [pen], "o", color=VERMILLION)
        ax.annotate(f"{100 * p:g}%: {pen:.2f}", (p, pen), textcoords="offset points", xytext=(6, 4))
    ax.axhline(d["blind"], color=ORANGE, linestyle="--",
               label=w("penalty.blind", vocab=d["vocab"], blind=f"{d['blind']:.2f}"))
    ax.plot([d["p_truth"]], [d["penalty"]], "s", color=GREEN, label=w("penalty.ming", truth=d["truth"]))
    ax.set(xscale="log", xlim=(4e-4, 3), xlabel=w("penalty.x"), ylabel=w("penalty_axis"), title=w("penalty.title"))
    ax.legend(frameon=False, fontsize=8)
    rows = [["probability", "penalty", "what"]] + [[p, pen, "computed"] for p, pen in d["penalties"]]
    return fig, rows + [[1 / d["vocab"], d["blind"], "blindfolded"], [d["p_truth"], d["penalty"], "ming"]]


def dials(d: dict, w):
    fig, ax = subplots(figsize=(6, 2.6))
    names = [f"{name}  #{index + 1}" for name, index, _ in d["dials"]][::-1]
    grads = [g for _, _, g in d["dials"]][::-1]
    ax.barh(names, grads, color=[BLUE if g > 0 else ORANGE for g in grads])
    ax.axvline(0, color=BLACK, linewidth=0.8)
    context = " ".join(course_label(c, w) for c in d["context"])
    ax.set(title=w("dials.title", truth=d["truth"], context=context), xlabel=w("dials.x"))
    return fig, [["dial", "number", "gradient"]] + [[n, i + 1, g] for n, i, g in d["dials"]]


def box(ax, x: float, y: float, text: str, colour: str = SKY) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": BLACK, "linewidth": 0.6})


def arrow(ax, start: tuple, end: tuple, label: str) -> None:
    ax.annotate("", end, start, arrowprops={"arrowstyle": "-|>", "color": BLACK, "shrinkA": 22, "shrinkB": 22})
    ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.25, label, ha="center", fontsize=9, color=VERMILLION)


def trace_chain(d: dict, w):
    """The worked example as a graph with the influence along each road, and the chain rule as a relay."""
    w_, w, relay = w, d["worked"], d["relay"]  # w is the worked example here: its words are w_
    fig, (graph, chain) = subplots(1, 2, figsize=(9, 3), width_ratios=[1.5, 1])
    salt, sugar, blend, taste = (1, 4), (1, 1), (4.5, 2), (8, 3.5)
    box(graph, *salt, w_("chain.salt") + f"\n{w['salt']:g}")
    box(graph, *sugar, w_("chain.sugar") + f"\n{w['sugar']:g}")
    box(graph, *blend, w_("chain.blend") + f"\n{w['blend']:g}")
    box(graph, *taste, w_("chain.taste") + f"\n{w['taste']:g}", YELLOW)
    # each road's local influence: a product passes on the other factor, a sum passes on 1 ("direct")
    arrow(graph, salt, blend, f"×{w['via_blend']:g}")
    arrow(graph, sugar, blend, f"×{w['salt']:g}")
    arrow(graph, blend, taste, f"×{w['direct']:g}")
    arrow(graph, salt, taste, f"×{w['direct']:g}")
    graph.text(1, 4.9, w_("chain.salt_influence")
               + f": {w['via_blend']:g}×{w['direct']:g} + {w['direct']:g} = {w['d_salt']:g}",
               ha="center", fontsize=8, weight="bold")
    graph.text(1, 0.1, w_("chain.sugar_influence") + f": {w['salt']:g}×{w['direct']:g} = {w['d_sugar']:g}",
               ha="center", fontsize=8,
               weight="bold")
    graph.set(xlim=(-0.5, 9.3), ylim=(-0.2, 5.3), title=w_("chain.graph"))
    for (a, b), label in ((((0, 1), (3, 1)), f"×{relay['first']:g}"), (((3, 1), (6, 1)), f"×{relay['second']:g}")):
        arrow(chain, a, b, label)
    for x, key in ((0, "dial"), (3, "station"), (6, "plate")):
        box(chain, x, 1, w_(f"chain.{key}"), YELLOW if key == "plate" else SKY)
    chain.text(3, -0.2, w_("chain.relay_influence") + f"\n{relay['first']:g} × {relay['second']:g} = "
                        f"{relay['influence']:g}", ha="center", fontsize=9, weight="bold")
    chain.set(xlim=(-1, 7), ylim=(-1, 2.2), title=w_("chain.relay"))
    for ax in (graph, chain):
        ax.axis("off")
    rows = [["quantity", "value"]] + [[key, value] for key, value in w.items()]
    return fig, rows + [[f"relay_{key}", value] for key, value in relay.items()]


def nudge_test(d: dict, w):
    """The reveal of chapter 5's question: the dial turned for real, beside what its influence predicted."""
    name, _, influence = d["dials"][0]
    predicted = influence * d["nudge"]
    fig, ax = subplots(figsize=(5.5, 2.6))
    ax.barh([w("nudge.measured"), w("nudge.predicted")], [d["nudged_change"], predicted],
            color=[VERMILLION, BLUE])
    for i, v in enumerate((d["nudged_change"], predicted)):
        ax.annotate(f"{v:+.6f}", (v, i), xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if v >= 0 else "right", va="center", fontsize=8)
    ax.axvline(0, color=BLACK, linewidth=0.8)
    ax.margins(x=0.35)
    ax.set(xlabel=w("nudge.x"), title=w("nudge.title", dial=name, nudge=f"{d['nudge']:g}",
                                        influence=f"{influence:+.4f}"))
    return fig, [["dial", "influence", "nudge", "predicted_change", "measured_change"],
                 [name, influence, d["nudge"], predicted, d["nudged_change"]]]


WALL_WIDTH = 150  # cells on one line of the wall before the next station starts a new line


def dial_wall(d: dict, w):
    """Every dial of Ming's wall, matrix by matrix as the stations hold them; the five most influential ringed.

    A matrix much taller than wide (the back kitchen's first, one row per idea) is shown turned on its side,
    and says so, so that the wall fits a page.
    """
    stations = []  # [(station, [matrix, ...])], consecutive matrices of one station together
    for m in d["wall"]:
        if not stations or stations[-1][0] != m["station"]:
            stations.append((m["station"], []))
        stations[-1][1].append(m)
    ranks = {tuple(cell): rank + 1 for rank, cell in enumerate(d["dial_cells"])}
    # the colour scale stops at the 99th percentile: the few largest dials would wash all the others out
    limit = float(np.percentile(np.abs(np.concatenate([np.ravel(m["values"]) for m in d["wall"]])), 99))
    fig, ax = subplots(figsize=(9, 3.9))
    rows = [["station", "matrix", "row", "column", "value", "influence_rank"]]
    x = y = line = right = 0
    for station, matrices in stations:
        shown = [np.array(m["values"]).T if len(m["values"]) > 2 * len(m["values"][0]) else np.array(m["values"])
                 for m in matrices]
        width = sum(v.shape[1] for v in shown) + 2 * (len(shown) - 1)
        if x and x + width > WALL_WIDTH:
            x, y, line = 0, y + line + 11, 0
        counts = [v.size for v in shown]
        sizes = (f"{len(matrices[0]['values'])}×{len(matrices[0]['values'][0])}" if len(matrices) == 1
                 else f"{len(matrices)} × {counts[0]:,}" if len(set(counts)) == 1 else w("wall.matrices", n=len(matrices)))
        ax.text(x + width / 2, y - 3, f"{station}\n{sizes} = {sum(counts):,}", ha="center", va="bottom",
                fontsize=8, weight="bold", linespacing=1.1)
        for m, values in zip(matrices, shown):
            turned = values.shape[0] != len(m["values"])
            image = ax.imshow(values, cmap="PuOr", vmin=-limit, vmax=limit, interpolation="nearest",
                              extent=(x, x + values.shape[1], y + values.shape[0], y))
            if m["matrix"] != station:
                part = m["matrix"].split("_")[-1] + (w("wall.turned") if turned else "")
                ax.text(x + values.shape[1] / 2, y - 0.5, part,
                        ha="center", va="bottom", fontsize=7)
            for (matrix, r, c), rank in ranks.items():
                if matrix == m["matrix"]:
                    cx, cy = (x + r + 0.5, y + c + 0.5) if turned else (x + c + 0.5, y + r + 0.5)
                    ax.plot(cx, cy, "o", markersize=10, markerfacecolor="none", markeredgecolor=BLACK,
                            markeredgewidth=1.5)
                    ax.annotate(str(rank), (cx, cy), xytext=(6, -12), textcoords="offset points", fontsize=8,
                                weight="bold", color=VERMILLION, bbox={"boxstyle": "circle,pad=0.1",
                                                                       "facecolor": "white", "linewidth": 0})
            rows += [[station, m["matrix"], r, c, v, ranks.get((m["matrix"], r, c), "")]
                     for r, row in enumerate(m["values"]) for c, v in enumerate(row)]
            x += values.shape[1] + 2
            line = max(line, values.shape[0])
        right = max(right, x)
        x += 6
    ax.set(xlim=(-1, right), ylim=(y + line + 1, -9), aspect="equal")
    ax.set_title(w("wall.title", n=f"{len(rows) - 1:,}", ringed=len(ranks)))
    ax.axis("off")
    fig.colorbar(image, ax=ax, shrink=0.7, extend="both", label=w("wall.setting"))
    return fig, rows


def techniques(d: dict, w):
    fig, ax = subplots(figsize=(5.5, 2.8))
    ops = list(d["techniques"])
    counts = [d["techniques"][op] for op in ops]
    colours = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY]
    ax.bar(ops, counts, color=colours[: len(ops)])
    for i, c in enumerate(counts):
        ax.annotate(f"{c:,}", (i, c), ha="center", va="bottom", fontsize=8)
    ax.set(yscale="log", ylabel=w("techniques.y"), title=w("techniques.title", example=d["example"]))
    return fig, [["technique", "nodes"]] + [[op, c] for op, c in zip(ops, counts)]


def loss_curve(d: dict, w):
    fig, ax = subplots(figsize=(7, 3.4))
    losses, window = d["losses"], d["window"]
    steps = range(1, len(losses) + 1)
    means = running(losses, window)
    ax.plot(steps, losses, color=SKY, linewidth=0.6, alpha=0.6, label=w("loss.each"))
    ax.plot(steps, means, color=BLUE, linewidth=2, label=w("loss.mean", window=window))
    ax.axhline(d["blind"], color=ORANGE, linestyle="--", label=w("loss.blind", blind=f"{d['blind']:.2f}"))
    val = [(s["step"], s["val"]) for s in d["stages"] if s["val"] is not None]
    if val:
        ax.plot(*zip(*val), "D", color=VERMILLION, label=w("loss.held_out"))
    for s in d["stages"]:
        ax.axvline(s["step"], color=BLACK, linewidth=0.5, linestyle=":")
    ax.set(xlabel=w("dish_axis"), ylabel=w("loss.y"), title=w("loss.title"))
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    rows = [["step", "loss", "running_mean", "held_out"]]
    held = dict(val)
    return fig, rows + [[s, loss, m, held.get(s, "")] for s, loss, m in zip(steps, losses, means)]


def running(losses: list[float], window: int) -> list[float]:
    """The mean of the last `window` losses at each step (fewer at the start)."""
    return [sum(losses[max(0, i - window): i]) / min(i, window) for i in range(1, len(losses) + 1)]


def adam_vs_sgd(d: dict, w):
    """Adam's growth curve against plain gradient descent's from the same start, and the counting tables' scores."""
    v, window = d["versus"], d["window"]
    fig, ax = subplots(figsize=(9, 3.6))
    rows = [["series", "step", "value"]]
    sgd = w("versus.sgd", lr=f"{v['lr']:g}")
    for name, losses, colour, label in (("adam", d["losses"], BLUE, w("versus.adam")), ("sgd", v["sgd"], ORANGE, sgd)):
        means = running(losses, window)
        ax.plot(range(1, len(means) + 1), means, color=colour, linewidth=2, label=w("versus.mean", who=label))
        rows += [[f"{name}_running_mean", s + 1, m] for s, m in enumerate(means)]
    held = [(s["step"], s["val"]) for s in d["stages"] if s["val"] is not None]
    if held:
        ax.plot(*zip(*held), "D", color=BLUE, label=w("versus.adam_held_out"))
    if v["sgd_val"] is not None:
        ax.plot([len(v["sgd"])], [v["sgd_val"]], "D", color=ORANGE, label=w("versus.sgd_held_out"))
    rows += [["adam_held_out", s, x] for s, x in held]
    rows += [["sgd_held_out", len(v["sgd"]), v["sgd_val"]]] if v["sgd_val"] is not None else []
    for (name, loss), style in zip((v["baselines"] or {}).items(), (":", "--", "-.")):
        ax.axhline(loss, color=GREY, linestyle=style, linewidth=1,
                   label=w("versus.table", name=w(f"versus.{name}"), loss=f"{loss:.2f}"))
        rows.append([f"{name}_table_held_out", "", loss])
    if v["article"]:
        steps, losses, _ = zip(*v["article"])
        ax.plot(steps, losses, "X", color=VERMILLION, markersize=8, label=w("versus.article"))
        rows += [["article", step, text] for step, _, text in v["article"]]
    ax.set(xlabel=w("dish_axis"), ylabel=w("loss.y"), title=w("versus.title"))
    ax.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig, rows


def adam_step(d: dict, w):
    """One real Adam step on one menu: the penalty of each of its courses before and after."""
    one = d["one_step"]
    fig, ax = subplots(figsize=(6, 3))
    rows = [["position", "course", "probability_before", "probability_after", "penalty_before", "penalty_after"]]
    for i, (key, colour) in enumerate((("before", SKY), ("after", BLUE))):
        penalties = [-math.log(p) for _, p in one[key]]
        ax.bar([x + (i - 0.5) * 0.4 for x in range(len(penalties))], penalties, width=0.4, color=colour,
               label=w(f"step.{key}"))
    for pos, ((course, p0), (_, p1)) in enumerate(zip(one["before"], one["after"])):
        rows.append([pos + 1, course, p0, p1, -math.log(p0), -math.log(p1)])
    ax.set_xticks(range(len(one["before"])), [course_label(c, w) for c, _ in one["before"]])
    ax.set(xlabel=w("order.x"), ylabel=w("penalty_axis"),
           title=w("step.title", example=one["example"], before=f"{one['penalty_before']:.3f}",
                   after=f"{one['penalty_after']:.3f}"))
    ax.legend(frameon=False, fontsize=8)
    return fig, rows


def stage_names(d: dict, w):
    stages = d["stages"]
    n = max(len(s["names"]) for s in stages)
    fig, ax = subplots(figsize=(1.7 * len(stages) + 0.4, 0.26 * n + 0.9))
    for col, s in enumerate(stages):
        ax.text(col, n + 0.2, w("stages.dish", step=f"{s['step']:,}"), ha="center", weight="bold")
        for row, name in enumerate(s["names"]):
            ax.text(col, n - 1 - row, name or w("empty"), ha="center", family=monospace(), fontsize=8)
    ax.set(xlim=(-0.6, len(stages) - 0.4), ylim=(-0.6, n + 0.8), title=w("stages.title"))
    ax.axis("off")
    return fig, [["step", "name"]] + [[s["step"], name] for s in stages for name in s["names"]]


def temperature(d: dict, w):
    """Ming's vote for the first course at three risk-dial settings, and names he cooked at each."""
    dist = d["distribution"]
    labels = [course_label(lab, w) for lab in dist["labels"]]
    fig, axes = subplots(len(dist["temperatures"]), 1, figsize=(7.5, 4.6), sharex=True, sharey=True)
    for ax, t, probs, names, colour in zip(axes, dist["temperatures"], dist["probs"], dist["names"],
                                           (BLUE, ORANGE, GREEN)):
        ax.bar(range(len(labels)), probs, color=colour)
        ax.set_title(w("temperature.panel", t=f"{t:g}", names=", ".join(n or w("empty") for n in names)), fontsize=9,
                     loc="left")
        ax.set(ylabel=w("temperature.y"), yticks=[0, 0.5, 1])
        ax.tick_params(axis="x", bottom=False)  # the letters are written once, under the last panel
    axes[-1].set_xticks(range(len(labels)), labels, fontsize=7)
    fig.suptitle(w("temperature.title"), fontsize=9)
    rows = [["course"] + [f"t={t:g}" for t in dist["temperatures"]]]
    rows += [[lab] + [p[i] for p in dist["probs"]] for i, lab in enumerate(dist["labels"])]
    return fig, rows + [["cooked"] + [" ".join(names) for names in dist["names"]]]


def scale(d: dict, w):
    fig, ax = subplots(figsize=(6, 2.8))
    names = [w("ming") if i == 0 else m["name"] for i, m in enumerate(d["models"])]
    # the published counts (GPT-2 and GPT-3 tie their cards, so our formula overcounts them); Ming's own is exact
    counts = [m["published"] or m["formula"] for m in d["models"]]
    ax.barh(names, counts, color=[ORANGE] + [BLUE] * (len(names) - 1))
    for i, c in enumerate(counts):
        ax.annotate(f"{c:,.0f}", (c, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set(xscale="log", xlabel=w("scale.x"), title=w("scale.title"),
           xlim=(1e3, 1e13))
    ax.invert_yaxis()
    return fig, [["model", "layers", "n_embd", "heads", "vocab", "context", "params_formula", "params_published"]] + [
        [m["name"], m["n_layer"], m["n_embd"], m["n_head"], m["vocab"], m["context"], m["formula"],
         m["published"] or ""] for m in d["models"]]


def course_label(course: str, w) -> str:
    """A course as a figure shows it: the bell by its word in the figure's language."""
    return w("bell") if course == "<bell>" else course


def subplots(*grid, figsize, **options):
    """A figure of its own (no pyplot, no global registry of figures) and its axes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **options)


FIGURES = {1: [order, records], 2: [tokens, card_map],
           3: [assembly_line, attention, supporting_roles, back_kitchen, back_kitchen_typical], 4: [penalty],
           5: [trace_chain, dials, dial_wall, techniques, nudge_test],
           6: [loss_curve, adam_vs_sgd, stage_names, adam_step], 7: [temperature], 8: [scale]}


MANIFEST = ".figures.json"  # in the output folder: what each figure was drawn from
SOURCE = Path(__file__).read_bytes()  # this file, read once: a change to how figures are drawn redraws them


def digest(number: int, name: str, d: dict, alt: str, lang: str) -> str:
    """A fingerprint of everything a figure depends on: its data, its words, this file, matplotlib."""
    blob = json.dumps([number, name, d, alt, lang, matplotlib.__version__], sort_keys=True,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else repr(o))
    return hashlib.sha256(SOURCE + blob.encode()).hexdigest()


def draw_one(number: int, name: str, d: dict, alt: str, stem: Path, lang: str = "en") -> None:
    """Draw one figure, labelled in `lang` (see figure_language), and write it as PNG, SVG and CSV."""
    make = next(m for m in FIGURES[number] if m.__name__ == name)
    style = {**STYLE, **(CJK_STYLE if lang != "en" and has_cjk_font() else {})}  # a worker registers it too
    with matplotlib.rc_context(style):  # the tour's style, without touching matplotlib's global state
        fig, rows = make(d, words(lang))
    fig.savefig(stem.with_suffix(".png"), dpi=DPI, metadata={"Title": name, "Description": alt})
    fig.set_layout_engine("none")  # laid out once by the PNG's save: the SVG keeps those positions
    # a salt per figure keeps the SVG's internal ids distinct when the page inlines every figure,
    # and with no date the same data always gives the same file
    with matplotlib.rc_context({**style, "svg.hashsalt": stem.name}):
        fig.savefig(stem.with_suffix(".svg"), metadata={"Title": name, "Description": alt, "Date": None})
    with open(stem.with_suffix(".csv"), "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def draw(chapters: dict[int, tuple[dict, dict[str, str]]], out: Path, workers: int = 1,
         lang: str = "en") -> dict[int, dict[str, Path]]:
    """Every figure of the chapters given as {number: (data, alt texts)}, labelled in `lang` (give it
    figure_language's answer); returns {number: {name: PNG path}}.

    Drawing is most of a tour's time, so a figure whose data, words and code are all unchanged
    since it was written into `out` (the manifest says so) is kept as it is, not drawn again; the
    others are drawn by `workers` processes at once (matplotlib holds the GIL: threads would not help).
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    paths, todo = {}, []
    for number, (d, alts) in chapters.items():
        for make in FIGURES[number]:
            stem = out / f"ch{number}-{make.__name__}"
            alt = alts.get(make.__name__, "")
            key = digest(number, make.__name__, d, alt, lang)
            paths.setdefault(number, {})[make.__name__] = stem.with_suffix(".png")
            if manifest.get(stem.name) != key or not all(stem.with_suffix(x).is_file() for x in (".png", ".svg", ".csv")):
                manifest.pop(stem.name, None)
                todo.append(((number, make.__name__, d, alt, stem, lang), key))
    if workers > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(todo))) as pool:
            for future in [pool.submit(draw_one, *job) for job, _ in todo]:
                future.result()  # a failure in a worker surfaces here
    else:
        for job, _ in todo:
            draw_one(*job)
    manifest.update({job[4].name: key for job, key in todo})
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return paths
