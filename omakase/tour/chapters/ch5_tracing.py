"""Chapter 5, tracing the complaint back: the chain rule, a real penalty traced to every dial, the nudge test.

The autograd graph is the scalar kitchen's: it is the only one that keeps every
node, so it can count the techniques a whole forward and backward pass uses.
"""

from __future__ import annotations

import numpy as np

from ...anatomy import Words, dial_parts, locate, name_dial, nudge, salt_and_sugar, station_of
from ...autograd import TECHNIQUES, Value, count_techniques
from ...config import block_of, count_params, dial_name, param_shapes
from ...sample import course_probabilities
from ..drawing import (BLACK, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION, YELLOW, arrow, box, course_label, log_labels,
                       rectangle, subplots)
from ..live_model import Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, course, courses_text, kitchen_table, num, pct

RELAY = (3.0, 2.0)  # the article's chain rule: an influence of x3, then one of x2
NUDGE = 0.001


def measure(k: Kitchen) -> dict:
    # The worked example, computed by the autograd engine itself.
    salt, sugar, blend, taste = salt_and_sugar().values()
    taste.backward()
    worked = {"salt": salt.data, "sugar": sugar.data, "blend": blend.data, "taste": taste.data,
              "d_salt": salt.grad, "d_sugar": sugar.grad, "via_blend": sugar.data, "direct": 1.0}
    # The chain rule as a relay: two influences in a row, multiplied by the same machinery.
    dial = Value(1.0)
    plate = dial * RELAY[0] * RELAY[1]
    plate.backward()

    # A real complaint: Ming's worst course of the example, traced back to every dial.
    tok = k.tokenizer
    tokens = tok.encode(k.example)
    probs = course_probabilities(k.run.engine, tok, k.example)
    worst = min(range(len(probs)), key=lambda i: probs[i][1])
    engine = k.scalar()
    penalty = engine.course_graph(tokens, worst)
    penalty.backward()
    grads = engine.grads()
    flat = [g for name, _ in param_shapes(k.config) for row in grads[name] for g in row]
    top = sorted(range(len(flat)), key=lambda i: abs(flat[i]), reverse=True)[:5]
    # the nudge test: does the penalty move as the trace predicts?
    nudged = nudge(k.ming.final, locate(k.config, top[0]), NUDGE, tokens, worst, k.run.engine.name)

    # The whole forward and backward pass of the example: which techniques, how many nodes.
    engine = k.scalar()
    graph = engine.loss_graph([tokens])
    graph.backward()
    counts = count_techniques(graph)
    return {
        "worked": worked, "relay": {"first": RELAY[0], "second": RELAY[1], "influence": dial.grad},
        "example": k.example, "context": [tok.label(t) for t in tokens[: worst + 1]],
        "truth": probs[worst][0], "p": probs[worst][1], "penalty": penalty.data,
        "n_params": count_params(k.config),
        "dials": [(dial_name(k.config, i), i, flat[i]) for i in top],
        # each of them in the kitchen's words (anatomy.name_dial words them in the reader's language)
        "dial_parts": [dial_parts(k.config, tok, *locate(k.config, i)) for i in top],
        "dial_cells": [locate(k.config, i) for i in top],  # (matrix, row, column) of each, for the wall
        # every dial on the wall, matrix by matrix, with the station (part of the kitchen) it belongs to
        "wall": [{"matrix": name, "station": block_of(name), "values": k.ming.final.params[name]}
                 for name, _ in param_shapes(k.config)],
        "nudge": NUDGE, "nudged_change": nudged - penalty.data,
        "techniques": {t: counts[t] for t in TECHNIQUES}, "kinds": sorted(set(counts) - {"leaf"}),
        "leaves": counts["leaf"], "nodes": sum(counts[t] for t in TECHNIQUES),
        "touched": touched(k, tokens),
    }


def touched(k: Kitchen, tokens: list[int]) -> list[tuple[str, int]]:
    """The dials a whole menu's forward pass reads, station by station: the cards of the courses it serves,
    the tags of the positions it fills, and every dial of the other stations (they act on every course)."""
    served = tokens[: min(k.config.block_size, len(tokens) - 1)]  # the courses that go in (the last only comes out)
    counts: dict[str, int] = {}
    for name, (rows, cols) in param_shapes(k.config):
        used = len(set(served)) if name == "wte" else len(served) if name == "wpe" else rows
        counts[station_of(name)] = counts.get(station_of(name), 0) + used * cols
    return list(counts.items())


def tell(d: dict, t: Catalogue) -> list:
    w = {key: f"{value:g}" for key, value in d["worked"].items()}
    words = Words(t.lang)
    kitchen_names = [name_dial(words, parts) for parts in d["dial_parts"]]
    dial_rows = [[kitchen, name, f"{grad:+.4f}"] for kitchen, (name, _, grad) in zip(kitchen_names, d["dials"])]
    technique_rows = [[t(f"tech.{op}"), op, f"{d['techniques'][op]:,}"] for op in d["techniques"]]
    return [
        Para(t("ch5.recipe", salt=w["salt"], sugar=w["sugar"], blend=w["blend"], taste=w["taste"])),
        Para(t("ch5.trace", d_sugar=w["d_sugar"], via_blend=w["via_blend"], direct=w["direct"], d_salt=w["d_salt"])),
        kitchen_table(t, [("taste", w["taste"], "ours"), ("salt_influence", w["d_salt"], "ours"),
                          ("sugar_influence", w["d_sugar"], "ours"),
                          ("taste", "8", "article"), ("salt_influence", "3 + 1 = 4", "article"),
                          ("sugar_influence", "2", "article")]),
        Figure("trace_chain", t("fig.trace_chain.alt", d_salt=w["d_salt"], d_sugar=w["d_sugar"],
                                via_blend=w["via_blend"], direct=w["direct"], first=f"{d['relay']['first']:g}",
                                second=f"{d['relay']['second']:g}", influence=f"{d['relay']['influence']:g}")),
        Para(t("ch5.complaint", example=d["example"], truth=course(t, d["truth"]),
               context=courses_text(t, d["context"]), p=pct(d["p"]), penalty=num(d["penalty"]),
               n_params=f"{d['n_params']:,}")),
        Table([t("col.dial"), t("col.address"), t("col.influence")], dial_rows),
        Para(t("ch5.sign")),
        *same_influence(d, t, kitchen_names),
        Figure("dials", t("fig.dials.alt", top=kitchen_names[0], influence=f"{d['dials'][0][2]:+.2f}",
                          n=len(d["dials"]), n_params=f"{d['n_params']:,}")),
        Figure("dial_wall", t("fig.dial_wall.alt", n_params=f"{d['n_params']:,}", n_dials=len(d["dials"]),
                              stations=t.join(dict.fromkeys(words(f"station.{station_of(m)}")
                                                            for m, _, _ in d["dial_cells"])))),
        Para(t("ch5.techniques", example=d["example"], nodes=f"{d['nodes']:,}", kinds=len(d["kinds"]),
               leaves=f"{d['leaves']:,}", n_params=f"{d['n_params']:,}",
               parts=t.join(t("ch5.touched", n=f"{n:,}", station=words(f"station.{station}"))
                            for station, n in d["touched"]))),
        Table([t("col.technique"), t("col.operation"), t("col.nodes")], technique_rows),
        Figure("techniques", t("fig.techniques.alt", example=d["example"], blend=Words(t.lang)("tech.mul"),
                               share=pct(d["techniques"]["mul"] / d["nodes"]), nodes=f"{d['nodes']:,}",
                               kinds=len(d["kinds"]))),
        Question(*question(d, t)),
        # the figure that would give the question away: shown right after its answer
        Figure("nudge_test", t("fig.nudge_test.alt", dial=kitchen_names[0], nudge=f"{d['nudge']:g}",
                               measured=f"{d['nudged_change']:+.6f}",
                               predicted=f"{d['dials'][0][2] * d['nudge']:+.6f}")),
    ]


def same_influence(d: dict, t: Catalogue, names: list[str]) -> list:
    """A flavor-card dial and a position-tag dial with the same influence: they are added together (combine)
    before anything else, so the penalty cannot tell them apart. Said when the top dials show such a pair."""
    for i, (ma, ra, ca) in enumerate(d["dial_cells"]):
        for j, (mb, rb, cb) in enumerate(d["dial_cells"]):
            if (ma, mb) == ("wte", "wpe") and ca == cb and abs(d["dials"][i][2] - d["dials"][j][2]) < 1e-9:
                return [Para(t("ch5.same_influence", a=names[i], b=names[j], influence=f"{d['dials'][i][2]:+.4f}"))]
    return []


def question(d: dict, t) -> tuple[str, str]:
    name, _, influence = d["dials"][0]
    change = d["nudged_change"]  # measured: the penalty recomputed with the dial turned
    kitchen = name_dial(Words(t.lang), d["dial_parts"][0])
    return (t("q5.ask", dial=kitchen, address=name, nudge=f"{d['nudge']:g}"),
            t("q5.answer", direction=t("q5.up") if change > 0 else t("q5.down"), change=f"{abs(change):.6f}",
              predicted=f"{influence * d['nudge']:+.6f}", influence=f"{influence:+.4f}"))


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


def dials(d: dict, w):
    """The most influential dials, named in kitchen words (their address in the code beneath), coloured by sign."""
    words = Words(w.lang)
    names = [f"{name_dial(words, parts)}\n{name}" for parts, (name, _, _) in zip(d["dial_parts"], d["dials"])][::-1]
    grads = [g for _, _, g in d["dials"]][::-1]
    fig, ax = subplots(figsize=(7.5, 0.55 * len(names) + 1.2))
    ax.barh(names, grads, color=[VERMILLION if g > 0 else BLUE for g in grads])
    for i, g in enumerate(grads):
        ax.annotate(f"{g:+.2f}", (g, i), xytext=(3 if g > 0 else -3, 0), textcoords="offset points", va="center",
                    ha="left" if g > 0 else "right", fontsize=8)
    ax.axvline(0, color=BLACK, linewidth=0.8)
    ax.tick_params(axis="y", labelsize=7)
    ax.margins(x=0.2)
    ax.legend(handles=[rectangle((0, 0), 1, 1, color=VERMILLION), rectangle((0, 0), 1, 1, color=BLUE)],
              labels=[w("dials.up"), w("dials.down")], frameon=False, fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.2), ncol=2)
    context = " ".join(course_label(c, w) for c in d["context"])
    ax.set(title=w("dials.title", truth=d["truth"], context=context), xlabel=w("dials.x"))
    return fig, [["dial", "number", "gradient"]] + [[n, i + 1, g] for n, i, g in d["dials"]]


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
    """The six techniques as cards: the kitchen's name, the operation and how many steps of the graph use it,
    on a scale of powers of ten so that the rarest (a handful of extracts) shows as plainly as the commonest."""
    words = Words(w.lang)
    ops = list(d["techniques"])
    counts = [d["techniques"][op] for op in ops]
    colours = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY]
    fig, ax = subplots(figsize=(6.5, 3))
    labels = [f"{words(f'tech.{op}')} ({op})" for op in ops]
    ax.barh(labels[::-1], counts[::-1], color=colours[: len(ops)][::-1])
    for i, c in enumerate(counts[::-1]):
        ax.annotate(f"{c:,}", (c, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set(xscale="log", xlim=(0.8, max(counts) * 8), xlabel=w("techniques.x"),
           title=w("techniques.title_total", nodes=f"{sum(counts):,}", kinds=len(ops), example=d["example"]))
    log_labels(ax.xaxis, powers=False)
    return fig, [["technique", "nodes"]] + [[op, c] for op, c in zip(ops, counts)]


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


FIGURES = [trace_chain, dials, dial_wall, techniques, nudge_test]
