"""Chapter 1, the records: what Ming studied, and why the order of a menu's courses matters.

The data is plain numbers measured on the Ming at hand (no words); the story
weaves them into the catalogue's sentences; the question asks the reader to
predict how often a menu served backwards costs Ming more, over many menus he
never studied; the example shown is the one in the middle of them, chosen by that
rule, never by hand. The figures draw the same numbers.
"""

from __future__ import annotations

import math
from collections import Counter

from ...sample import course_probabilities
from ..drawing import BLACK, BLUE, GREY, ORANGE, SKY, course_label, monospace, subplots
from ..live_model import Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, kitchen_table, num, pct, visible

RECORD_SAMPLE = 12  # menus shown in the records figure
SAMPLE_WIDTH = 16  # courses of a menu shown there (a longer one is cut, and says so with "…")
ORDER_MENUS = 200  # locked-away menus scored forwards and backwards


def measure(k: Kitchen) -> dict:
    """The records: how many, how long, which Ming saw; and what serving menus backwards costs him."""
    reversed_ = k.example[::-1]
    engine = k.run.engine
    lengths = Counter(len(doc) for doc in k.ming.docs)
    mode = max(lengths, key=lengths.get)
    return {
        "n_docs": len(k.ming.docs), "n_train": k.run.n_train, "n_val": len(k.run.val_docs),
        # what the run actually saw: steps x batch documents, cycling over the training part
        "seen": min(k.run.step * k.run.plan.batch_size, k.run.n_train), "epochs": k.run.epochs,
        "example": k.example, "example_is_emma": k.example == "emma", "second": k.second,
        "lengths": sorted(lengths.items()),  # (courses, menus) over every record
        "mode": mode, "near_mode": sum(lengths.get(n, 0) for n in (mode - 1, mode, mode + 1)),
        "sample": k.run.train_docs[:RECORD_SAMPLE],  # the first menus Ming studied, in his order
        # a menu and its closing bell are len + 1 predictions; the block holds block_size of them
        "too_long": sum(len(doc) + 1 > k.config.block_size for doc in k.ming.docs), "block": k.config.block_size,
        "example_courses": len(k.example), "second_courses": len(k.second), "reversed": reversed_,
        "reversed_in_records": reversed_ in k.records,
        "penalty_example": mean_penalty(engine, k.tokenizer, k.example),
        "penalty_reversed": mean_penalty(engine, k.tokenizer, reversed_),
        "backwards": backwards(k),
    }


def backwards(k: Kitchen) -> dict:
    """Menus Ming never studied, each scored as written and served backwards; the one in the middle of them
    (by how much more its reversal costs) is the chapter's example of order, with its course-by-course penalties."""
    menus = [d for d in (k.run.val_docs or k.run.train_docs)
             if 2 <= len(d) < k.config.block_size and d != d[::-1] and d[::-1] not in k.records][:ORDER_MENUS]
    if not menus:
        return {"n": 0}
    courses = k.course_probabilities(menus + [d[::-1] for d in menus])  # every menu both ways, in one pass
    mean = [sum(-math.log(p) for _, p in c) / len(c) for c in courses]
    scored = sorted((mean[len(menus) + i] - mean[i], i) for i in range(len(menus)))
    gap, middle = scored[len(scored) // 2]
    forward, backward = courses[middle], courses[len(menus) + middle]
    middle = menus[middle]
    return {"n": len(scored), "costlier": sum(g > 0 for g, _ in scored), "median_gap": gap,
            "example": middle, "reversed": middle[::-1],
            "courses_example": forward, "courses_reversed": backward,
            "penalty_example": sum(-math.log(p) for _, p in forward) / len(forward),
            "penalty_reversed": sum(-math.log(p) for _, p in backward) / len(backward)}


def mean_penalty(engine, tokenizer, name: str) -> float:
    courses = course_probabilities(engine, tokenizer, name)
    return sum(-math.log(p) for _, p in courses) / len(courses)


def tell(d: dict, t: Catalogue) -> list:
    """The chapter's blocks, its question among them (the title and the summary are added by chapters.tell)."""
    blocks = [Para(t("ch1.records", n_docs=d["n_docs"]))]
    if not d["example_is_emma"]:
        blocks.append(Para(t("example.stand_in", example=d["example"])))
    blocks += [
        Para(t("ch1.lengths" if d["example_is_emma"] else "ch1.lengths_custom", example=d["example"],
               example_courses=d["example_courses"], second=d["second"],
               second_courses=d["second_courses"], n_train=d["n_train"], n_val=d["n_val"], seen=d["seen"],
               epochs=f"{d['epochs']:.2f}")),
        kitchen_table(t, [("records", f"{d['n_docs']:,}", "ours"), ("train_set", f"{d['n_train']:,}", "ours"),
                          ("studied", f"{d['seen']:,}", "ours"), ("locked", f"{d['n_val']:,}", "ours")]),
        Figure("records", t("fig.records.alt", n_docs=f"{d['n_docs']:,}", near=pct(d["near_mode"] / d["n_docs"]),
                            low=d["mode"] - 1, high=d["mode"] + 1, mode=d["mode"])),
    ]
    if d.get("too_long"):  # cut silently by training; said here
        blocks.append(Para(t("ch1.too_long", too_long=f"{d['too_long']:,}", block=d["block"])))
    b = d["backwards"]
    if not b["n"]:
        return blocks
    costlier = b["penalty_reversed"] > b["penalty_example"]
    blocks += [
        Para(t("ch1.order", n=b["n"])),
        Question(*question(d, t)),
        Para(t("ch1.order_example", example=b["example"], reversed=b["reversed"], n=b["n"],
               forward=num(b["penalty_example"]), backward=num(b["penalty_reversed"]))),
        Table([t("col.menu"), t("col.in_records"), t("col.mean_penalty"), t("col.whose")], [
            [b["example"], t("yes"), num(b["penalty_example"]), t("whose.ours")],
            [b["reversed"], t("no"), num(b["penalty_reversed"]), t("whose.ours")]]),
        Figure("order", t("fig.order.alt" if costlier else "fig.order.alt_cheaper", example=b["example"],
                          reversed=b["reversed"], forward=num(b["penalty_example"]),
                          backward=num(b["penalty_reversed"]))),
    ]
    if d["penalty_reversed"] < d["penalty_example"] and d["example"] != b["example"]:  # the honest aside
        blocks.append(Para(t("ch1.order_aside", example=d["example"], reversed=d["reversed"],
                             forward=num(d["penalty_example"]), backward=num(d["penalty_reversed"]),
                             fewer=b["n"] - b["costlier"], n=b["n"])))
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    b = d["backwards"]
    if not b["n"]:
        return t("q1.ask_none"), t("q1.answer_none")
    share = b["costlier"] / b["n"]
    return (t("q1.ask", n=b["n"]),
            t("q1.answer" if share > 0.5 else "q1.answer_few", costlier=b["costlier"], n=b["n"], share=pct(share),
              gap=f"{b['median_gap']:.2f}"))


def order(d: dict, w):
    """The chapter's example of order: the penalty of each course, the menu as written and served backwards,
    positions counted as chapter 3 counts them (the opening bell is course 1)."""
    b = d["backwards"]
    fig, axes = subplots(1, 2, figsize=(7, 2.9), sharey=True)
    rows = [["menu", "position", "next_course", "probability", "penalty"]]
    for ax, (name, key, colour) in zip(axes, ((b["example"], "courses_example", BLUE),
                                              (b["reversed"], "courses_reversed", ORANGE))):
        courses = b[key]
        penalties = [-math.log(p) for _, p in courses]
        labels = [f"{pos + 2}: {course_label(c, w)}" for pos, (c, _) in enumerate(courses)]
        ax.bar(range(len(penalties)), penalties, color=[GREY if c == "<bell>" else colour for c, _ in courses])
        mean = sum(penalties) / len(penalties)
        ax.axhline(mean, color=BLACK, linestyle="--", linewidth=0.8)
        ax.annotate(w("order.mean", mean=f"{mean:.2f}"), (len(penalties) - 0.5, mean), xytext=(0, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set(title=f'"{name}"', xlabel=w("order.x"))
        rows += [[name, pos + 2, c, p, -math.log(p)] for pos, (c, p) in enumerate(courses)]
    axes[0].set(ylabel=w("penalty_axis"))
    fig.suptitle(w("order.title", n=b["n"], costlier=b["costlier"]), fontsize=9)
    return fig, rows


def records(d: dict, w):
    """A few menus as written, and how long all of them are."""
    fig, (left, right) = subplots(1, 2, figsize=(7.5, 3), width_ratios=[1, 2.6])
    n = len(d["sample"])
    for i, menu in enumerate(d["sample"]):
        shown = visible(menu) if len(menu) <= SAMPLE_WIDTH else visible(menu[: SAMPLE_WIDTH - 1]) + "…"
        left.text(0, n - 1 - i, shown, family=monospace(), fontsize=8, va="center")
        left.text(1, n - 1 - i, str(len(menu)), fontsize=8, va="center", ha="right", color=GREY)
    left.set(xlim=(0, 1), ylim=(-0.7, n - 0.3))
    left.set_title(w("records.sample"), loc="left")
    left.axis("off")
    lengths, counts = zip(*d["lengths"])
    near = [abs(length - d["mode"]) <= 1 for length in lengths]
    right.bar(lengths, counts, color=[BLUE if x else SKY for x in near])
    right.set(xlabel=w("records.x"), ylabel=w("records.y"),
              title=w("records.title", share=f"{100 * d['near_mode'] / d['n_docs']:.0f}%", low=d["mode"] - 1,
                      high=d["mode"] + 1))
    rows = [["kind", "courses", "value"]] + [["menus_of_this_length", length, c] for length, c in d["lengths"]]
    return fig, rows + [["sample_menu", len(menu), menu] for menu in d["sample"]]


FIGURES = [records, order]
