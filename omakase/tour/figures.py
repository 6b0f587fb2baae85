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
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
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


def cards(d: dict):
    fig, axes = subplots(1, 2, figsize=(7, 4.6), sharey=True)
    limit = max(abs(x) for card in d["cards_after"] for x in card)
    for ax, key, title in ((axes[0], "cards_before", "before training"), (axes[1], "cards_after", "after training")):
        image = ax.imshow(d[key], cmap="PuOr", vmin=-limit, vmax=limit, aspect="auto")
        ax.set(title=title, xlabel="number on the card")
        ax.set_xticks(range(0, len(d[key][0]), 3), [str(j + 1) for j in range(0, len(d[key][0]), 3)])
        ax.set_yticks(range(len(d["labels"])), ["bell" if lab == "<bell>" else lab for lab in d["labels"]],
                      fontsize=7)
    fig.colorbar(image, ax=axes, shrink=0.8, label="value")
    rows = [["when", "course", "index", "value"]]
    for key, when in (("cards_before", "before"), ("cards_after", "after")):
        rows += [[when, lab, j, x] for lab, card in zip(d["labels"], d[key]) for j, x in enumerate(card)]
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
    means = [sum(losses[max(0, i - window): i]) / min(i, window) for i in steps]
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
    dist = d["distribution"]
    labels = ["bell" if lab == "<bell>" else lab for lab in dist["labels"]]
    fig, ax = subplots(figsize=(7.5, 3))
    width = 0.8 / len(dist["temperatures"])
    for i, (t, probs, colour) in enumerate(zip(dist["temperatures"], dist["probs"], (BLUE, ORANGE, GREEN))):
        ax.bar([x + (i - 1) * width for x in range(len(labels))], probs, width=width, color=colour,
               label=f"temperature {t:g}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set(ylabel="probability", title="Ming's vote for the first course, at three risk-dial settings")
    ax.legend(frameon=False)
    rows = [["course"] + [f"t={t:g}" for t in dist["temperatures"]]]
    return fig, rows + [[lab] + [p[i] for p in dist["probs"]] for i, lab in enumerate(dist["labels"])]


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


FIGURES = {1: [order], 2: [tokens, cards], 3: [attention, back_kitchen], 4: [penalty], 5: [dials, techniques],
           6: [loss_curve, stage_names], 7: [temperature], 8: [scale]}


MANIFEST = ".figures.json"  # in the output folder: what each figure was drawn from


def digest(number: int, name: str, d: dict, alt: str) -> str:
    """A fingerprint of everything a figure depends on: its data, its alt text, this file, matplotlib."""
    blob = json.dumps([number, name, d, alt, matplotlib.__version__], sort_keys=True,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else repr(o))
    return hashlib.sha256(Path(__file__).read_bytes() + blob.encode()).hexdigest()


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
