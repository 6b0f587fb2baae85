"""The tour's figures, drawn from the chapters' live data with matplotlib.

Each figure is written three ways into the output folder: PNG (for slides),
SVG (for the page, crisp at any size, and for print) and CSV (the numbers behind it, so anyone can
redraw or check it). The alt text goes into the PNG and SVG metadata too.

Colours are the Okabe-Ito palette and colour maps are cividis (sequential) and
PuOr (diverging), all readable with colour-blind vision. Labels are English in
every language: the figures must draw the same on a machine without CJK fonts.
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
         "figure.constrained_layout.use": True}


def order(d: dict):
    fig, ax = subplots(figsize=(6, 3))
    rows = [["menu", "position", "next_course", "probability", "penalty"]]
    for i, (name, key, colour) in enumerate(((d["example"], "courses_example", BLUE),
                                              (d["reversed"], "courses_reversed", ORANGE))):
        penalties = [-math.log(p) for _, p in d[key]]
        xs = [x + (i - 0.5) * 0.4 for x in range(len(penalties))]
        ax.bar(xs, penalties, width=0.4, color=colour, label=f'"{name}"')
        for pos, (course, p) in enumerate(d[key]):
            ax.annotate(course, (xs[pos], penalties[pos]), ha="center", va="bottom", fontsize=7)
            rows.append([name, pos + 1, course, p, -math.log(p)])
    ax.set(xlabel="course position", ylabel="penalty  -ln p", title="Order matters: penalty per course")
    ax.legend(frameon=False)
    return fig, rows


def records(d: dict):
    """The reveal of chapter 1's question: a few menus as written, and how long all of them are."""
    fig, (left, right) = subplots(1, 2, figsize=(7.5, 3), width_ratios=[1, 2.6])
    n = len(d["sample"])
    for i, menu in enumerate(d["sample"]):
        left.text(0, n - 1 - i, menu, family="monospace", fontsize=8, va="center")
        left.text(1, n - 1 - i, str(len(menu)), fontsize=8, va="center", ha="right", color=GREY)
    left.set(xlim=(0, 1), ylim=(-0.7, n - 0.3), title="First menus studied")
    left.axis("off")
    lengths, counts = zip(*d["lengths"])
    longer = [length > d["example_courses"] for length in lengths]
    right.bar(lengths, counts, color=[ORANGE if x else BLUE for x in longer])
    right.set(xlabel="courses in the menu", ylabel="menus",
              title=f'{d["longer"]:,} of {d["n_docs"]:,} menus are longer than "{d["example"]}" '
                    f'({d["example_courses"]} courses)')
    right.legend(handles=[Rectangle((0, 0), 1, 1, color=BLUE), Rectangle((0, 0), 1, 1, color=ORANGE)],
                 labels=[f'up to {d["example_courses"]} courses', "longer"], frameon=False, fontsize=8)
    rows = [["kind", "courses", "value"]] + [["menus_of_this_length", length, c] for length, c in d["lengths"]]
    return fig, rows + [["sample_menu", len(menu), menu] for menu in d["sample"]]


def tokens(d: dict):
    n = len(d["tokens"])
    fig, ax = subplots(figsize=(1.1 * n + 0.5, 1.6))
    for i, (label, token) in enumerate(zip(d["token_labels"], d["tokens"])):
        bell = token == d["bell"]
        ax.add_patch(Rectangle((i + 0.05, 0.05), 0.9, 0.9, color=ORANGE if bell else SKY))
        ax.text(i + 0.5, 0.62, "bell" if bell else label, ha="center", va="center", fontsize=12)
        ax.text(i + 0.5, 0.25, str(token), ha="center", va="center", fontsize=11, weight="bold")
    ax.set(xlim=(0, n), ylim=(0, 1), title=f'"{d["example"]}" as numbered courses')
    ax.axis("off")
    return fig, [["position", "course", "token_id"]] + [[i, lab, tok] for i, (lab, tok) in
                                                       enumerate(zip(d["token_labels"], d["tokens"]))]


def card_map(d: dict):
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
            ax.text(x, y, "bell" if label == "<bell>" else label, ha="center", va="center", fontsize=8,
                    weight="bold" if label in vowels else "normal")
            rows.append([when, label, label in vowels, x, y])
        far = d["vowel_distances"][when]  # measured on all the card's numbers, not on the squeezed map
        title = f"{when} training" + (f"\nvowel–vowel {far['among_vowels']:.2f}, vowel–consonant "
                                      f"{far['vowel_consonant']:.2f} apart" if far else "")
        ax.set(title=title, xticks=[], yticks=[], xlabel=f"this map keeps {100 * flat['kept']:.0f}% of the spread")
        ax.margins(0.08)
    fig.suptitle("The flavor cards as a map (vowels in orange; distances are means over all the card's numbers)",
                 fontsize=9)
    return fig, rows


def attention(d: dict):
    fig, ax = subplots(figsize=(0.9 * len(d["served"]) + 2.4, 2.8))
    image = ax.imshow(d["attention"], cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for h, weights in enumerate(d["attention"]):
        for pos, w in enumerate(weights):
            ax.text(pos, h, f"{100 * w:.0f}%", ha="center", va="center", color="white" if w < 0.5 else "black")
    ax.set_xticks(range(len(d["served"])), [f"{i + 1}: {'bell' if s == '<bell>' else s}"
                                            for i, s in enumerate(d["served"])])
    ax.set_yticks(range(len(d["attention"])), [f"chef {h + 1}" for h in range(len(d["attention"]))])
    ax.set(title="Sous chefs' attention\n(each row sums to 100%)", xlabel="course served")
    fig.colorbar(image, ax=ax, shrink=0.8)
    rows = [["head", "position", "course", "weight"]] + [
        [h + 1, pos + 1, d["served"][pos], w] for h, ws in enumerate(d["attention"]) for pos, w in enumerate(ws)]
    return fig, rows


def assembly_line(d: dict):
    """One course's own numbers at each station of the line, then the vote they end in."""
    stations = (("embedding", "card + position"), ("cleansed", "palate cleanser"),
                ("after_attention", "+ roundtable"), ("after_mlp", "+ back kitchen"))
    fig, axes = subplots(1, 5, figsize=(10, 2.6), width_ratios=[1, 1, 1, 1, 0.8])
    # one scale for the four stations, so the cleanser's rescaling shows as it is
    top = 1.1 * max(abs(v) for key, _ in stations for v in d["stations"][key])
    rows = [["station", "index", "value"]]
    for i, (ax, (key, title)) in enumerate(zip(axes, stations)):
        values = d["stations"][key]
        ax.bar(range(1, len(values) + 1), values, color=[BLUE if v > 0 else ORANGE for v in values])
        ax.axhline(0, color=BLACK, linewidth=0.6)
        ax.set(title=f"{title}\nsize {math.sqrt(sum(v * v for v in values)):.2f}", ylim=(-top, top),
               xticks=[1, len(values)], xlabel="number on the card")
        if i:
            ax.set_yticklabels([])
        rows += [[key, i + 1, v] for i, v in enumerate(values)]
    labels = ["bell" if c == "<bell>" else c for c, _ in d["vote"]][::-1]
    shares = [p for _, p in d["vote"]][::-1]
    axes[4].barh(labels, shares, color=[GREEN if c == d["truth"] else SKY for c, _ in d["vote"]][::-1])
    axes[4].set(title="final vote (top 5)", xlabel="share", xlim=(0, 1))
    rows += [["vote", c, p] for c, p in d["vote"]]
    served = " ".join("bell" if c == "<bell>" else c for c in d["served"])
    fig.suptitle(f'One course down the line after {served}: its numbers at each station, then the vote '
                 f'(green: "{d["truth"]}", what the records serve next)', fontsize=9)
    return fig, rows


def supporting_roles(d: dict):
    """The sizes the story tells: the cleanser's rescaling, and the stock each spoonful is stirred into."""
    end = "stock at the end of the line" if d["n_layer"] == 1 else f"stock after all {d['n_layer']} lines"
    steps = [("card + position tag", d["embedding"], BLUE), ("after the palate cleanser", d["cleansed"], GREEN),
             ("the roundtable's spoonful", d["added"], ORANGE),
             ("stock after the roundtable", d["after_attention"], BLUE),
             ("the back kitchen's spoonful", d["mlp_added"], ORANGE), (end, d["after_mlp"], BLUE)]
    fig, ax = subplots(figsize=(6.5, 2.8))
    ax.barh([s for s, _, _ in steps][::-1], [v for _, v, _ in steps][::-1], color=[c for _, _, c in steps][::-1])
    for i, (_, v, _) in enumerate(steps[::-1]):
        ax.annotate(f"{v:.2f}", (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    target = math.sqrt(d["n_embd"])  # a cleansed portion has every number about 1 in size: sqrt(n) in all
    ax.axvline(target, color=BLACK, linestyle=":", linewidth=0.8)
    ax.annotate(f"cleanser's size √{d['n_embd']}", (target, len(steps) - 0.5), xytext=(3, 0),
                textcoords="offset points", fontsize=7)
    ax.set(xlabel="size (length of the course's numbers)",
           title="Palate cleanser and stock\n(a spoonful is stirred in: sizes do not simply add)")
    return fig, [["step", "size"]] + [[s, v] for s, v, _ in steps]


def back_kitchen(d: dict):
    fig, ax = subplots(figsize=(7, 2.8))
    pre = d["mlp_pre"]
    ax.bar(range(len(pre)), pre, color=[GREEN if x > 0 else VERMILLION for x in pre], width=0.8)
    ax.axhline(0, color=BLACK, linewidth=0.8)
    ax.set(title=f"Back kitchen: {d['passed']} of {d['width']} ideas passed quality control (ReLU > 0)",
           xlabel="idea (hidden unit)", ylabel="value before ReLU")
    ax.legend(handles=[Rectangle((0, 0), 1, 1, color=GREEN), Rectangle((0, 0), 1, 1, color=VERMILLION)],
              labels=["passed (kept)", "dumped to zero"], frameon=False, fontsize=8)
    return fig, [["unit", "before_relu", "after_relu"]] + [[i, x, max(0.0, x)] for i, x in enumerate(pre)]


def back_kitchen_typical(d: dict):
    """How many ideas usually pass quality control, course after course of locked-away menus, and this moment."""
    typical, width = d["typical"], d["typical"]["width"]
    counts = [0] * (width + 1)
    for passed in typical["passed"]:
        counts[passed] += 1
    top = max(i for i, c in enumerate(counts) if c) + 1
    fig, ax = subplots(figsize=(6, 2.8))
    ax.bar(range(top + 1), counts[: top + 1], color=SKY, width=0.9)
    ax.axvline(typical["share"] * width, color=BLUE, linestyle="--",
               label=f"usual: {100 * typical['share']:.1f}% of the ideas pass (mean)")
    ax.axvline(d["passed"], color=VERMILLION, label=f"this moment: {d['passed']} ({100 * d['passed'] / width:.1f}%)")
    ax.set(xlabel=f"ideas passed at one course (of {width})", ylabel="courses",
           title=f"Back kitchen, usually: {len(typical['passed']):,} courses of {typical['menus']:,} locked-away menus")
    ax.legend(frameon=False, fontsize=8)
    return fig, [["ideas_passed", "courses"]] + [[i, c] for i, c in enumerate(counts)]


def penalty(d: dict):
    fig, ax = subplots(figsize=(5.5, 3))
    ps = [10 ** (-3.2 + 3.2 * i / 200) for i in range(201)]
    ax.plot(ps, [-math.log(p) for p in ps], color=BLUE)
    for p, pen in d["penalties"]:
        ax.plot([p], [pen], "o", color=VERMILLION)
        ax.annotate(f"{100 * p:g}%: {pen:.2f}", (p, pen), textcoords="offset points", xytext=(6, 4))
    ax.axhline(d["blind"], color=ORANGE, linestyle="--", label=f"blindfolded guess ln {d['vocab']} = {d['blind']:.2f}")
    ax.plot([d["p_truth"]], [d["penalty"]], "s", color=GREEN, label=f'Ming on "{d["truth"]}" (chapter 3)')
    ax.set(xscale="log", xlim=(4e-4, 3), xlabel="bet on the right course (probability)", ylabel="penalty  -ln p",
           title="The diner's penalty")
    ax.legend(frameon=False, fontsize=8)
    rows = [["probability", "penalty", "what"]] + [[p, pen, "computed"] for p, pen in d["penalties"]]
    return fig, rows + [[1 / d["vocab"], d["blind"], "blindfolded"], [d["p_truth"], d["penalty"], "ming"]]


def dials(d: dict):
    fig, ax = subplots(figsize=(6, 2.6))
    names = [f"{name}  #{index + 1}" for name, index, _ in d["dials"]][::-1]
    grads = [g for _, _, g in d["dials"]][::-1]
    ax.barh(names, grads, color=[BLUE if g > 0 else ORANGE for g in grads])
    ax.axvline(0, color=BLACK, linewidth=0.8)
    ax.set(title=f'Most influential dials for "{d["truth"]}" after {" ".join(d["context"])}',
           xlabel="influence on the penalty (gradient)")
    return fig, [["dial", "number", "gradient"]] + [[n, i + 1, g] for n, i, g in d["dials"]]


def box(ax, x: float, y: float, text: str, colour: str = SKY) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": BLACK, "linewidth": 0.6})


def arrow(ax, start: tuple, end: tuple, label: str) -> None:
    ax.annotate("", end, start, arrowprops={"arrowstyle": "-|>", "color": BLACK, "shrinkA": 22, "shrinkB": 22})
    ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.25, label, ha="center", fontsize=9, color=VERMILLION)


def trace_chain(d: dict):
    """The worked example as a graph with the influence along each road, and the chain rule as a relay."""
    w, relay = d["worked"], d["relay"]
    fig, (graph, chain) = subplots(1, 2, figsize=(9, 3), width_ratios=[1.5, 1])
    salt, sugar, blend, taste = (1, 4), (1, 1), (4.5, 2), (8, 3.5)
    box(graph, *salt, f"salt\n{w['salt']:g}")
    box(graph, *sugar, f"sugar\n{w['sugar']:g}")
    box(graph, *blend, f"blend (×)\n{w['blend']:g}")
    box(graph, *taste, f"taste (+)\n{w['taste']:g}", YELLOW)
    # each road's local influence: a product passes on the other factor, a sum passes on 1 ("direct")
    arrow(graph, salt, blend, f"×{w['via_blend']:g}")
    arrow(graph, sugar, blend, f"×{w['salt']:g}")
    arrow(graph, blend, taste, f"×{w['direct']:g}")
    arrow(graph, salt, taste, f"×{w['direct']:g}")
    graph.text(1, 4.9, f"salt's influence: {w['via_blend']:g}×{w['direct']:g} + {w['direct']:g} = {w['d_salt']:g}",
               ha="center", fontsize=8, weight="bold")
    graph.text(1, 0.1, f"sugar's influence: {w['salt']:g}×{w['direct']:g} = {w['d_sugar']:g}", ha="center", fontsize=8,
               weight="bold")
    graph.set(xlim=(-0.5, 9.3), ylim=(-0.2, 5.3), title="Tracing the taste back: multiply along a road, add the roads")
    for (a, b), label in ((((0, 1), (3, 1)), f"×{relay['first']:g}"), (((3, 1), (6, 1)), f"×{relay['second']:g}")):
        arrow(chain, a, b, label)
    for x, text in ((0, "dial"), (3, "station"), (6, "plate")):
        box(chain, x, 1, text, YELLOW if text == "plate" else SKY)
    chain.text(3, -0.2, f"the dial's influence on the plate:\n{relay['first']:g} × {relay['second']:g} = "
                        f"{relay['influence']:g} (traced)", ha="center", fontsize=9, weight="bold")
    chain.set(xlim=(-1, 7), ylim=(-1, 2.2), title="The chain rule: a relay")
    for ax in (graph, chain):
        ax.axis("off")
    rows = [["quantity", "value"]] + [[key, value] for key, value in w.items()]
    return fig, rows + [[f"relay_{key}", value] for key, value in relay.items()]


def nudge_test(d: dict):
    """The reveal of chapter 5's question: the dial turned for real, beside what its influence predicted."""
    name, _, influence = d["dials"][0]
    predicted = influence * d["nudge"]
    fig, ax = subplots(figsize=(5.5, 2.6))
    ax.barh(["measured: penalty after − before", "predicted: influence × nudge"], [d["nudged_change"], predicted],
            color=[VERMILLION, BLUE])
    for i, v in enumerate((d["nudged_change"], predicted)):
        ax.annotate(f"{v:+.6f}", (v, i), xytext=(4 if v >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if v >= 0 else "right", va="center", fontsize=8)
    ax.axvline(0, color=BLACK, linewidth=0.8)
    ax.margins(x=0.35)
    ax.set(xlabel="change of the penalty", title=f"Nudge test: {name} up by {d['nudge']:g}\n"
                                                 f"(its influence: {influence:+.4f})")
    return fig, [["dial", "influence", "nudge", "predicted_change", "measured_change"],
                 [name, influence, d["nudge"], predicted, d["nudged_change"]]]


WALL_WIDTH = 150  # cells on one line of the wall before the next station starts a new line


def dial_wall(d: dict):
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
                 else f"{len(matrices)} × {counts[0]:,}" if len(set(counts)) == 1 else f"{len(matrices)} matrices")
        ax.text(x + width / 2, y - 3, f"{station}\n{sizes} = {sum(counts):,}", ha="center", va="bottom",
                fontsize=8, weight="bold", linespacing=1.1)
        for m, values in zip(matrices, shown):
            turned = values.shape[0] != len(m["values"])
            image = ax.imshow(values, cmap="PuOr", vmin=-limit, vmax=limit, interpolation="nearest",
                              extent=(x, x + values.shape[1], y + values.shape[0], y))
            if m["matrix"] != station:
                ax.text(x + values.shape[1] / 2, y - 0.5, m["matrix"].split("_")[-1] + (" (turned)" if turned else ""),
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
    ax.set_title(f"Ming's wall: all {len(rows) - 1:,} dials, coloured by their setting\n"
                 f"ringed: the {len(ranks)} with the most influence on the complaint (1 = most)")
    ax.axis("off")
    fig.colorbar(image, ax=ax, shrink=0.7, extend="both", label="dial setting")
    return fig, rows


def techniques(d: dict):
    fig, ax = subplots(figsize=(5.5, 2.8))
    ops = list(d["techniques"])
    counts = [d["techniques"][op] for op in ops]
    colours = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY]
    ax.bar(ops, counts, color=colours[: len(ops)])
    for i, c in enumerate(counts):
        ax.annotate(f"{c:,}", (i, c), ha="center", va="bottom", fontsize=8)
    ax.set(yscale="log", ylabel="steps (nodes)", title=f'Six techniques, one pass of "{d["example"]}"')
    return fig, [["technique", "nodes"]] + [[op, c] for op, c in zip(ops, counts)]


def loss_curve(d: dict):
    fig, ax = subplots(figsize=(7, 3.4))
    losses, window = d["losses"], d["window"]
    steps = range(1, len(losses) + 1)
    means = running(losses, window)
    ax.plot(steps, losses, color=SKY, linewidth=0.6, alpha=0.6, label="penalty of each dish")
    ax.plot(steps, means, color=BLUE, linewidth=2, label=f"running mean (last {window})")
    ax.axhline(d["blind"], color=ORANGE, linestyle="--", label=f"blindfolded guess {d['blind']:.2f}")
    val = [(s["step"], s["val"]) for s in d["stages"] if s["val"] is not None]
    if val:
        ax.plot(*zip(*val), "D", color=VERMILLION, label="held-out loss")
    for s in d["stages"]:
        ax.axvline(s["step"], color=BLACK, linewidth=0.5, linestyle=":")
    ax.set(xlabel="dish (training step)", ylabel="loss", title="Ming's growth curve")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    rows = [["step", "loss", "running_mean", "held_out"]]
    held = dict(val)
    return fig, rows + [[s, loss, m, held.get(s, "")] for s, loss, m in zip(steps, losses, means)]


def running(losses: list[float], window: int) -> list[float]:
    """The mean of the last `window` losses at each step (fewer at the start)."""
    return [sum(losses[max(0, i - window): i]) / min(i, window) for i in range(1, len(losses) + 1)]


def adam_vs_sgd(d: dict):
    """Adam's growth curve against plain gradient descent's from the same start, and the counting tables' scores."""
    v, window = d["versus"], d["window"]
    fig, ax = subplots(figsize=(9, 3.6))
    rows = [["series", "step", "value"]]
    sgd = f"plain SGD: same start, menus, step sizes (lr {v['lr']:g})"
    for name, losses, colour, label in (("adam", d["losses"], BLUE, "Adam (this run)"), ("sgd", v["sgd"], ORANGE, sgd)):
        means = running(losses, window)
        ax.plot(range(1, len(means) + 1), means, color=colour, linewidth=2, label=f"{label}: running mean")
        rows += [[f"{name}_running_mean", s + 1, m] for s, m in enumerate(means)]
    held = [(s["step"], s["val"]) for s in d["stages"] if s["val"] is not None]
    if held:
        ax.plot(*zip(*held), "D", color=BLUE, label="Adam: held-out loss")
    if v["sgd_val"] is not None:
        ax.plot([len(v["sgd"])], [v["sgd_val"]], "D", color=ORANGE, label="SGD: held-out loss")
    rows += [["adam_held_out", s, x] for s, x in held]
    rows += [["sgd_held_out", len(v["sgd"]), v["sgd_val"]]] if v["sgd_val"] is not None else []
    for (name, loss), style in zip((v["baselines"] or {}).items(), (":", "--", "-.")):
        ax.axhline(loss, color=GREY, linestyle=style, linewidth=1,
                   label=f"counting table, {name}: {loss:.2f} (held out)")
        rows.append([f"{name}_table_held_out", "", loss])
    if v["article"]:
        steps, losses, _ = zip(*v["article"])
        ax.plot(steps, losses, "X", color=VERMILLION, markersize=8, label="the article's growth curve")
        rows += [["article", step, text] for step, _, text in v["article"]]
    ax.set(xlabel="dish (training step)", ylabel="loss", title="The sensei's habits matter: Adam against plain SGD")
    ax.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    return fig, rows


def stage_names(d: dict):
    stages = d["stages"]
    n = max(len(s["names"]) for s in stages)
    fig, ax = subplots(figsize=(1.7 * len(stages) + 0.4, 0.26 * n + 0.9))
    for col, s in enumerate(stages):
        ax.text(col, n + 0.2, f"dish {s['step']:,}", ha="center", weight="bold")
        for row, name in enumerate(s["names"]):
            ax.text(col, n - 1 - row, name or "(empty)", ha="center", family="monospace", fontsize=8)
    ax.set(xlim=(-0.6, len(stages) - 0.4), ylim=(-0.6, n + 0.8), title="Names cooked at each stage (risk dial 0.5)")
    ax.axis("off")
    return fig, [["step", "name"]] + [[s["step"], name] for s in stages for name in s["names"]]


def temperature(d: dict):
    """Ming's vote for the first course at three risk-dial settings, and names he cooked at each."""
    dist = d["distribution"]
    labels = ["bell" if lab == "<bell>" else lab for lab in dist["labels"]]
    fig, axes = subplots(len(dist["temperatures"]), 1, figsize=(7.5, 4.6), sharex=True, sharey=True)
    for ax, t, probs, names, colour in zip(axes, dist["temperatures"], dist["probs"], dist["names"],
                                           (BLUE, ORANGE, GREEN)):
        ax.bar(range(len(labels)), probs, color=colour)
        ax.set_title(f"risk dial {t:g}: cooked " + ", ".join(n or "(empty)" for n in names), fontsize=9, loc="left")
        ax.set(ylabel="probability", yticks=[0, 0.5, 1])
        ax.tick_params(axis="x", bottom=False)  # the letters are written once, under the last panel
    axes[-1].set_xticks(range(len(labels)), labels, fontsize=7)
    fig.suptitle("Ming's vote for the first course at three risk-dial (temperature) settings, and names he cooked",
                 fontsize=9)
    rows = [["course"] + [f"t={t:g}" for t in dist["temperatures"]]]
    rows += [[lab] + [p[i] for p in dist["probs"]] for i, lab in enumerate(dist["labels"])]
    return fig, rows + [["cooked"] + [" ".join(names) for names in dist["names"]]]


def scale(d: dict):
    fig, ax = subplots(figsize=(6, 2.8))
    names = [m["name"] for m in d["models"]]
    # the published counts (GPT-2 and GPT-3 tie their cards, so our formula overcounts them); Ming's own is exact
    counts = [m["published"] or m["formula"] for m in d["models"]]
    ax.barh(names, counts, color=[ORANGE] + [BLUE] * (len(names) - 1))
    for i, c in enumerate(counts):
        ax.annotate(f"{c:,.0f}", (c, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set(xscale="log", xlabel="dials (parameters) as published; Ming's counted; log scale", title="From cart to Michelin",
           xlim=(1e3, 1e13))
    ax.invert_yaxis()
    return fig, [["model", "layers", "n_embd", "heads", "vocab", "context", "params_formula", "params_published"]] + [
        [m["name"], m["n_layer"], m["n_embd"], m["n_head"], m["vocab"], m["context"], m["formula"],
         m["published"] or ""] for m in d["models"]]


def subplots(*grid, figsize, **options):
    """A figure of its own (no pyplot, no global registry of figures) and its axes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **options)


FIGURES = {1: [order, records], 2: [tokens, card_map],
           3: [assembly_line, attention, supporting_roles, back_kitchen, back_kitchen_typical], 4: [penalty],
           5: [trace_chain, dials, dial_wall, techniques, nudge_test],
           6: [loss_curve, adam_vs_sgd, stage_names], 7: [temperature], 8: [scale]}


MANIFEST = ".figures.json"  # in the output folder: what each figure was drawn from
SOURCE = Path(__file__).read_bytes()  # this file, read once: a change to how figures are drawn redraws them


def digest(number: int, name: str, d: dict, alt: str) -> str:
    """A fingerprint of everything a figure depends on: its data, its alt text, this file, matplotlib."""
    blob = json.dumps([number, name, d, alt, matplotlib.__version__], sort_keys=True,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else repr(o))
    return hashlib.sha256(SOURCE + blob.encode()).hexdigest()


def draw_one(number: int, name: str, d: dict, alt: str, stem: Path) -> None:
    """Draw one figure and write it as PNG, SVG and CSV."""
    make = next(m for m in FIGURES[number] if m.__name__ == name)
    with matplotlib.rc_context(STYLE):  # the tour's style, without touching matplotlib's global state
        fig, rows = make(d)
    fig.savefig(stem.with_suffix(".png"), dpi=DPI, metadata={"Title": name, "Description": alt})
    fig.set_layout_engine("none")  # laid out once by the PNG's save: the SVG keeps those positions
    # a salt per figure keeps the SVG's internal ids distinct when the page inlines every figure,
    # and with no date the same data always gives the same file
    with matplotlib.rc_context({**STYLE, "svg.hashsalt": stem.name}):
        fig.savefig(stem.with_suffix(".svg"), metadata={"Title": name, "Description": alt, "Date": None})
    with open(stem.with_suffix(".csv"), "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def draw(chapters: dict[int, tuple[dict, dict[str, str]]], out: Path, workers: int = 1) -> dict[int, dict[str, Path]]:
    """Every figure of the chapters given as {number: (data, alt texts)}; returns {number: {name: PNG path}}.

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
            key = digest(number, make.__name__, d, alt)
            paths.setdefault(number, {})[make.__name__] = stem.with_suffix(".png")
            if manifest.get(stem.name) != key or not all(stem.with_suffix(x).is_file() for x in (".png", ".svg", ".csv")):
                manifest.pop(stem.name, None)
                todo.append(((number, make.__name__, d, alt, stem), key))
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
