"""Chapter 1, the records: what Ming studied, and why the order of a menu's courses matters.

The data is plain numbers measured on the Ming at hand (no words); the story
weaves them into the catalogue's sentences; the question asks the reader to guess
how many menus are longer than the example; the figures draw the same numbers.
"""

from __future__ import annotations

import math
from collections import Counter

from ...sample import course_probabilities
from ..drawing import BLUE, GREY, ORANGE, course_label, monospace, rectangle, subplots
from ..kitchen import Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, kitchen_table, num

RECORD_SAMPLE = 12  # menus shown in the records figure


def measure(k: Kitchen) -> dict:
    """The records: how many, how long, which Ming saw; and the example's penalty forwards and reversed."""
    reversed_ = k.example[::-1]
    engine = k.run.engine
    return {
        "n_docs": len(k.ming.docs), "n_train": k.run.n_train, "n_val": len(k.run.val_docs),
        # what the run actually saw: steps x batch documents, cycling over the training part
        "seen": min(k.run.step * k.run.plan.batch_size, k.run.n_train), "epochs": k.run.epochs,
        "example": k.example, "example_is_emma": k.example == "emma", "second": k.second,
        "longer": sum(len(doc) > len(k.example) for doc in k.ming.docs),  # for the chapter's question
        "lengths": sorted(Counter(len(doc) for doc in k.ming.docs).items()),  # (courses, menus) over every record
        "sample": k.run.train_docs[:RECORD_SAMPLE],  # the first menus Ming studied, in his order
        # a menu and its closing bell are len + 1 predictions; the block holds block_size of them
        "too_long": sum(len(doc) + 1 > k.config.block_size for doc in k.ming.docs), "block": k.config.block_size,
        "example_courses": len(k.example), "second_courses": len(k.second), "reversed": reversed_,
        "reversed_in_records": reversed_ in k.records,
        "courses_example": course_probabilities(engine, k.tokenizer, k.example),
        "courses_reversed": course_probabilities(engine, k.tokenizer, reversed_),
        "penalty_example": mean_penalty(engine, k.tokenizer, k.example),
        "penalty_reversed": mean_penalty(engine, k.tokenizer, reversed_),
    }


def mean_penalty(engine, tokenizer, name: str) -> float:
    courses = course_probabilities(engine, tokenizer, name)
    return sum(-math.log(p) for _, p in courses) / len(courses)


def tell(d: dict, t: Catalogue) -> list:
    """The chapter's blocks, its question among them (the title and the summary are added by story.tell)."""
    blocks = [Para(t("ch1.records", n_docs=d["n_docs"]))]
    if not d["example_is_emma"]:
        blocks.append(Para(t("example.stand_in", example=d["example"])))
    blocks += [
        Para(t("ch1.lengths" if d["example_is_emma"] else "ch1.lengths_custom", example=d["example"],
               example_courses=d["example_courses"], second=d["second"],
               second_courses=d["second_courses"], n_train=d["n_train"], n_val=d["n_val"], seen=d["seen"],
               epochs=f"{d['epochs']:.2f}")),
        kitchen_table(t, [("records", f"{d['n_docs']:,}", "ours"), ("studied", f"{d['seen']:,}", "ours"),
                          ("locked", f"{d['n_val']:,}", "ours")]),
    ]
    if d.get("too_long"):  # cut silently by training; said here
        blocks.append(Para(t("ch1.too_long", too_long=f"{d['too_long']:,}", block=d["block"])))
    order = "ch1.order_expected" if d["penalty_example"] < d["penalty_reversed"] else "ch1.order_surprise"
    blocks += [
        Para(t("ch1.order", example=d["example"], reversed=d["reversed"])),
        Table([t("col.menu"), t("col.in_records"), t("col.mean_penalty"), t("col.whose")], [
            [d["example"], t("yes"), num(d["penalty_example"]), t("whose.ours")],
            [d["reversed"], t("yes") if d["reversed_in_records"] else t("no"), num(d["penalty_reversed"]),
             t("whose.ours")]]),
        Para(t(order, example=d["example"], reversed=d["reversed"])),
        Figure("order", t("fig.order.alt", example=d["example"], reversed=d["reversed"])),
        Question(*question(d, t)),
        # the figure that would give the question away: shown right after its answer
        Figure("records", t("fig.records.alt", n_sample=len(d["sample"]), n_docs=f"{d['n_docs']:,}",
                            example=d["example"])),
    ]
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    share = d["longer"] / d["n_docs"]
    return (t("q1.ask", n_docs=f"{d['n_docs']:,}", example=d["example"], courses=d["example_courses"]),
            t("q1.answer", longer=f"{d['longer']:,}", share=f"{100 * share:.1f}%"))


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
    right.legend(handles=[rectangle((0, 0), 1, 1, color=BLUE), rectangle((0, 0), 1, 1, color=ORANGE)],
                 labels=[w("records.short", courses=d["example_courses"]), w("records.long")], frameon=False,
                 fontsize=8)
    rows = [["kind", "courses", "value"]] + [["menus_of_this_length", length, c] for length, c in d["lengths"]]
    return fig, rows + [["sample_menu", len(menu), menu] for menu in d["sample"]]


FIGURES = [order, records]
