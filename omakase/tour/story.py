"""The story: each chapter's live numbers woven into the catalogue's sentences, as blocks.

A chapter is a title and a list of blocks (paragraphs, tables, figures, the
closing line). The console (telling.py) and the HTML page (report.py) render
the very same blocks, so the terminal and the page never tell different
stories. Numbers are formatted here; every word comes from the catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter

CATALOGUE = Path(__file__).parent / "catalogue"
LANGUAGES = ("en", "zh")


class Catalogue:
    """Every sentence of the tour in one language: `t(key, **values)`."""

    def __init__(self, lang: str):
        self.lang = lang
        self.entries: dict[str, str] = json.loads((CATALOGUE / f"{lang}.json").read_text(encoding="utf-8"))

    def __call__(self, key: str, **values) -> str:
        return self.entries[key].format(**values)

    def join(self, items) -> str:
        return self.entries["list.separator"].join(items)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@dataclass
class Para:
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    name: str
    alt: str


@dataclass
class Question:
    """Predict, then reveal: the reader guesses before the answer is shown."""
    text: str
    answer: str


@dataclass
class Hint:
    """A sentence for the terminal only: it names a command-line flag, and a reader of the page has no flags."""
    text: str


@dataclass
class Summary:
    text: str


@dataclass
class Chapter:
    number: int
    title: str
    blocks: list = field(default_factory=list)


def course(t: Catalogue, label: str) -> str:
    """A course as the reader sees it: the letter, or the bell in the reader's language."""
    return t("bell.label") if label == "<bell>" else "␣" if label == " " else label


def courses_text(t: Catalogue, labels) -> str:
    return " ".join(course(t, label) for label in labels)


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def kitchen_table(t: Catalogue, rows) -> Table:
    """The tour's usual table: kitchen word, real term, value, and whose number it is."""
    headers = [t("col.kitchen"), t("col.real"), t("col.value"), t("col.whose")]
    return Table(headers, [[t(f"k.{key}"), t(f"r.{key}"), value, t(f"whose.{whose}")] for key, value, whose in rows])


def records(d: dict, t: Catalogue) -> list:
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
    ]
    return blocks


def records_revealed(d: dict, t: Catalogue) -> list:
    return [Figure("records", t("fig.records.alt", n_sample=len(d["sample"]), n_docs=f"{d['n_docs']:,}",
                                example=d["example"]))]


def courses(d: dict, t: Catalogue) -> list:
    card = lambda values: " ".join(f"{x:+.2f}" for x in values)  # noqa: E731
    pairs = t.join(t("ch2.pair", a=a, b=b, cosine=f"{c:.2f}") for a, b, c in d["alike"])
    return [
        Para(t("ch2.numbering", first=d["first_char"], last=d["last_char"], last_id=d["last_id"], bell=d["bell"])),
        Para(t("ch2.example", example=d["example"], tokens=str(d["tokens"]))),
        kitchen_table(t, [("course", courses_text(t, d["token_labels"]), "ours"), ("number", str(d["tokens"]), "ours"),
                          ("bell", str(d["bell"]), "ours")]),
        Figure("tokens", t("fig.tokens.alt", example=d["example"])),
        Para(t("ch2.card", n_embd=d["n_embd"], course=d["course"])),
        Table([t("col.card"), t("col.value"), t("col.whose")], [
            [t("ch2.before", course=d["course"]), card(d["card_before"]), t("whose.ours")],
            [t("ch2.after", course=d["course"]), card(d["card_after"]), t("whose.ours")]]),
        Para(t("ch2.alike", pairs=pairs, before=t("ch2.pair", a=d["alike_before"][0], b=d["alike_before"][1],
                                                    cosine=f"{d['alike_before'][2]:.2f}"))),
        Figure("card_map", t("fig.card_map.alt", n_courses=len(d["labels"]), n_embd=d["n_embd"])),
    ]


def assembly_line(d: dict, t: Catalogue) -> list:
    served, typical = courses_text(t, d["served"]), d["typical"]
    blocks = [Para(t("ch3.moment", served=served, truth=course(t, d["truth"])))]
    if d["n_layer"] > 1:
        blocks.append(Para(t("ch3.layers", n_layer=d["n_layer"])))
    blocks.append(Figure("assembly_line", t("fig.assembly_line.alt")))
    positions = [f"{pos + 1}: {course(t, label)}" for pos, label in enumerate(d["served"])]
    headers = [t("col.chef")] + positions + [t("col.sum")]
    rows = [[t("ch3.chef", number=h + 1)] + [pct(w) for w in weights] + [pct(sum(weights))]
            for h, weights in enumerate(d["attention"])]
    blocks += [
        Para(t("ch3.cleanser", embedding=num(d["embedding"]), cleansed=num(d["cleansed"]))),
        Para(t("ch3.roundtable", n_head=d["n_head"])),
        Table(headers, rows),
        Figure("attention", t("fig.attention.alt", n_head=d["n_head"], served=served)),
        Para(t("ch3.stock", added=num(d["added"]), stream=num(d["cleansed"]), after=num(d["after_attention"]))),
        Para(t("ch3.back_kitchen", width=d["width"], factor=d["width"] // d["n_embd"], n_embd=d["n_embd"],
               passed=d["passed"], after=num(d["after_mlp"]))),
        kitchen_table(t, [("width", f"{d['width']} = {d['width'] // d['n_embd']} × {d['n_embd']}", "ours"),
                          ("passed", f"{d['passed']} / {d['width']}", "ours"),
                          ("size_before", num(d["embedding"]), "ours"), ("size_after", num(d["cleansed"]), "ours"),
                          ("spoonful", num(d["added"]), "ours"), ("size_end", num(d["after_mlp"]), "ours")]),
        Figure("supporting_roles", t("fig.supporting_roles.alt")),
        Figure("back_kitchen", t("fig.back_kitchen.alt", width=d["width"], passed=d["passed"])),
        Para(t("ch3.typical", menus=f"{typical['menus']:,}", courses=f"{len(typical['passed']):,}",
               share=pct(typical["share"]), passed=d["passed"], width=d["width"],
               moment=pct(d["passed"] / d["width"]))),
        Figure("back_kitchen_typical", t("fig.back_kitchen_typical.alt", width=d["width"],
                                         courses=f"{len(typical['passed']):,}", menus=f"{typical['menus']:,}")),
        Para(t("ch3.vote" if d["article_vote"] else "ch3.vote_custom")),
        Table([t("col.course"), t("col.share"), t("col.whose")],
              [[course(t, label), pct(p), t("whose.ours")] for label, p in d["vote"]]
              + [[label, pct(p), t("whose.article")] for label, p in d["article_vote"]]),
        Para(t("ch3.truth", truth=course(t, d["truth"]), p_truth=pct(d["p_truth"]))),
    ]
    return blocks


def scorecard(d: dict, t: Catalogue) -> list:
    words = ("certain", "ten", "tenth_of_one")
    rows = [[pct(p), num(penalty), t("whose.computed"), t(f"ch4.article_{w}")]
            for (p, penalty), w in zip(d["penalties"], words)]
    blocks = [
        Para(t("ch4.penalty")),
        Table([t("col.bet"), t("col.penalty"), t("col.whose"), t("col.article_says")], rows),
        Para(t("ch4.blindfold", vocab=d["vocab"], blind=num(d["blind"]))),
        kitchen_table(t, [("blind", num(d["blind"], 4), "computed"), ("blind", f"{d['article_blind']}", "article")]
                      + ([("first_dish", num(d["step1"], 4), "ours")] if d["step1"] is not None else [])),
    ]
    if d["step1"] is not None:
        gap = d["step1"] - d["blind"]  # "close to the blindfold" only when it is; otherwise which side
        key = "ch4.first_dish" if abs(gap) < 0.25 else "ch4.first_dish_far" if gap > 0 else "ch4.first_dish_less"
        blocks.append(Para(t(key, step1=num(d["step1"]), blind=num(d["blind"]))))
    blocks += [Para(t("ch4.moment", truth=course(t, d["truth"]), p_truth=pct(d["p_truth"]), penalty=num(d["penalty"]))),
               Figure("penalty", t("fig.penalty.alt"))]
    return blocks


def tracing(d: dict, t: Catalogue) -> list:
    w = {key: f"{value:g}" for key, value in d["worked"].items()}
    dial_rows = [[name, f"#{index + 1:,}", f"{grad:+.4f}"] for name, index, grad in d["dials"]]
    technique_rows = [[t(f"tech.{op}"), op, f"{d['techniques'][op]:,}"] for op in d["techniques"]]
    return [
        Para(t("ch5.recipe", salt=w["salt"], sugar=w["sugar"], blend=w["blend"], taste=w["taste"])),
        Para(t("ch5.trace", d_sugar=w["d_sugar"], via_blend=w["via_blend"], direct=w["direct"], d_salt=w["d_salt"])),
        kitchen_table(t, [("taste", w["taste"], "ours"), ("salt_influence", w["d_salt"], "ours"),
                          ("sugar_influence", w["d_sugar"], "ours"),
                          ("taste", "8", "article"), ("salt_influence", "3 + 1 = 4", "article"),
                          ("sugar_influence", "2", "article")]),
        Figure("trace_chain", t("fig.trace_chain.alt", first=f"{d['relay']['first']:g}",
                                second=f"{d['relay']['second']:g}", influence=f"{d['relay']['influence']:g}")),
        Para(t("ch5.complaint", example=d["example"], truth=course(t, d["truth"]),
               context=courses_text(t, d["context"]), p=pct(d["p"]), penalty=num(d["penalty"]),
               n_params=f"{d['n_params']:,}")),
        Table([t("col.dial"), t("col.dial_number"), t("col.influence")], dial_rows),
        Figure("dials", t("fig.dials.alt", example=d["example"])),
        Figure("dial_wall", t("fig.dial_wall.alt", n_params=f"{d['n_params']:,}", n_dials=len(d["dials"]))),
        Para(t("ch5.techniques", example=d["example"], nodes=f"{d['nodes']:,}", kinds=len(d["kinds"]),
               leaves=f"{d['leaves']:,}", n_params=f"{d['n_params']:,}")),
        Table([t("col.technique"), t("col.operation"), t("col.nodes")], technique_rows),
        Figure("techniques", t("fig.techniques.alt", example=d["example"])),
    ]


def tracing_revealed(d: dict, t: Catalogue) -> list:
    return [Figure("nudge_test", t("fig.nudge_test.alt", dial=d["dials"][0][0], nudge=f"{d['nudge']:g}"))]


def training(d: dict, t: Catalogue) -> list:
    # the article's column only where the article has numbers (its curve is for names.txt)
    article = any(s["article"] is not None for s in d["stages"])
    growth = [[f"{s['step']:,}", num(s["running_mean"]), num(s["val"])]
              + (["—" if s["article"] is None else f"{s['article']}"] if article else []) for s in d["stages"]]
    blocks = [
        Para(t("ch6.loop" if d["batch"] == 1 else "ch6.loop_batch", steps=f"{d['steps']:,}", batch=d["batch"])),
        Table([t("col.dish"), t("col.running_mean"), t("col.held_out")] + ([t("col.article_growth")] if article else []),
              growth),
        Para(t("ch6.growth_note", window=d["window"], n_val=f"{d['val_docs']:,}")),
    ] + ([Hint(t("ch6.keep_at"))] if len(d["stages"]) == 1 else []) + (  # only the final dials: no growth to show
        [Para(t("ch6.article_growth"))] if article else []) + [
        Figure("loss_curve", t("fig.loss_curve.alt", steps=f"{d['steps']:,}", blind=num(d["blind"]))),
        Para(t("ch6.names")),
        Table([t("col.dish"), t("col.names")], [[f"{s['step']:,}", " ".join(s["names"])] for s in d["stages"]]),
        Figure("stage_names", t("fig.stage_names.alt")),
    ]
    one = d["one_step"]
    lower = one["penalty_after"] < one["penalty_before"]
    blocks += [Para(t("ch6.one_step" if lower else "ch6.one_step_up", example=one["example"], lr=f"{one['lr']:g}",
                      before=num(one["penalty_before"]), after=num(one["penalty_after"]))),
               Figure("adam_step", t("fig.adam_step.alt", example=one["example"])),
               Para(t("ch6.adam"))]
    memory = d["memory"]
    if memory:
        rows = [[str(i + 1), f"{g:+.4f}", f"{m:+.4f}"]
                for i, (g, m) in enumerate(zip(memory["gradient"][:6], memory["momentum"][:6]))]
        blocks += [Para(t("ch6.memory", dial=memory["dial_name"], number=f"{memory['dial'] + 1:,}",
                          std_g=f"{memory['std_g']:.3f}", std_m=f"{memory['std_m']:.3f}")),
                   Table([t("col.dish"), t("col.raw"), t("col.memory")], rows)]
    else:
        blocks.append(Para(t("ch6.memory_unknown")))
    s = d["spread"]
    if s:
        blocks.append(Para(t("ch6.spread", step=f"{s['step']:,}", lr=f"{s['lr']:.5f}", g10=f"{s['g10']:.2g}",
                             g90=f"{s['g90']:.2g}", x10=f"{s['x10']:.2g}", x90=f"{s['x90']:.2g}",
                             ratio=f"{s['ratio']:.0f}")))
    blocks += [Para(t("ch6.decay")),
               Table([t("col.dish"), t("col.learning_rate")],
                     [[f"{stage['step']:,}", f"{stage['lr']:.5f}"] for stage in d["stages"]])]
    v = d["versus"]
    if v["adam_mean"] is not None and v["baselines"] and v["sgd_val"] is not None:
        b = v["baselines"]
        blocks.append(Para(t("ch6.sgd", steps=f"{v['steps']:,}", sgd=num(v["sgd_mean"]), adam=num(v["adam_mean"]),
                             sgd_val=num(v["sgd_val"]), uniform=num(b["uniform"]), unigram=num(b["unigram"]),
                             bigram=num(b["bigram"]))))
    blocks.append(Figure("adam_vs_sgd", t("fig.adam_vs_sgd.alt_article" if v["article"] else "fig.adam_vs_sgd.alt",
                                          steps=f"{v['steps']:,}")))
    return blocks


def graduation(d: dict, t: Catalogue) -> list:
    rows = [[f"{m['temperature']:g}", " ".join(n or "∅" for n in m["names"]),
             f"{m['invented']} / {m['n']} ({pct(m['invented'] / m['n'])})"]
            for m in d["menus"]]
    article_rows = [[name, t("yes") if known else t("no"), t("yes") if cooked else t("no")]
                    for name, known, cooked in d["article_names"]]
    greedy = "ch7.greedy_same" if d["greedy_same"] else "ch7.greedy_differs"
    return [
        Para(t("ch7.alone")),
        Table([t("col.temperature"), t("col.names"), t("col.invented")], rows),
        Para(t(greedy, greedy=d["greedy"])),
    ] + ([
        Para(t("ch7.invented")),
        Table([t("col.article_name"), t("col.in_records"), t("col.cooked")], article_rows),
    ] if article_rows else [Para(t("ch7.invented_custom"))]) + [
        Para(t("ch7.dial")),
        Figure("temperature", t("fig.temperature.alt", temperatures=t.join(f"{x:g}" for x in
                                                                            d["distribution"]["temperatures"]))),
    ]


def michelin(d: dict, t: Catalogue) -> list:
    # the first kitchen is the toured Ming, called by his name in the reader's language
    names = [t("ming") if i == 0 else m["name"] for i, m in enumerate(d["models"])]
    # two narrow tables rather than one wide one: each fits an 80-column terminal and a phone
    shapes = [[name, str(m["n_layer"]), f"{m['n_embd']:,}", f"{m['vocab']:,}", f"{m['context']:,}"]
              for name, m in zip(names, d["models"])]
    counts = [[name, f"{m['formula']:,}", "—" if m["published"] is None else f"{m['published']:,.0f}"]
              for name, m in zip(names, d["models"])]
    minute = "—" if d["seconds"] is None else t("ch8.seconds", seconds=f"{d['seconds']:.1f}", engine=d["engine"])
    scale = [[t("ch8.dials"), f"{d['models'][0]['formula']:,}", t("ch8.article_dials")],
             [t("ch8.records"), f"{d['n_docs']:,}", t("ch8.article_records")],
             [t("ch8.vocabulary"), f"{d['vocab']}", t("ch8.article_vocabulary")],
             [t("ch8.stoves"), t("ch8.one_machine"), t("ch8.article_stoves")],
             [t("ch8.time"), minute, t("ch8.article_time")]]
    return [
        Para(t("ch8.cart")),
        Table([t("col.model"), t("col.layers"), t("col.width"), t("col.vocabulary"), t("col.context")], shapes),
        Table([t("col.model"), t("col.formula"), t("col.published")], counts),
        Para(t("ch8.formula", biggest=d["biggest"], factor=f"{d['factor']:,.0f}",
               n_params=f"{d['models'][0]['formula']:,}")),
        Figure("scale", t("fig.scale.alt")),
        Table(["", t("col.ours"), t("col.article_chatgpt")], scale),
        Para(t("ch8.menu")),
        Para(t("ch8.critics")),
    ]


TELLERS = {1: records, 2: courses, 3: assembly_line, 4: scorecard, 5: tracing, 6: training, 7: graduation,
           8: michelin}
# Figures that would give the chapter's question away: shown right after its answer.
REVEALED = {1: records_revealed, 5: tracing_revealed}


def tell(number: int, data: dict, t: Catalogue) -> Chapter:
    from .questions import ASKERS

    question = Question(*ASKERS[number](data, t))
    revealed = REVEALED[number](data, t) if number in REVEALED else []
    return Chapter(number, t(f"ch{number}.title"),
                   TELLERS[number](data, t) + [question] + revealed + [Summary(t(f"ch{number}.summary"))])


MAP_ROWS = ("model", "parameters", "dataset", "token", "tokenizer", "bos", "embedding", "position", "attention",
            "qkv", "heads", "kv_cache", "mlp", "relu", "residual", "rmsnorm", "softmax", "loss", "backprop",
            "gradient", "chain_rule", "operations", "adam", "training_loop", "inference", "temperature",
            "hallucination", "sft", "rlhf", "scale")


def metaphor_map(t: Catalogue) -> Table:
    """The reference table: kitchen word, real term, where the picture breaks."""
    return Table([t("col.kitchen"), t("col.real"), t("col.breaks")],
                 [[t(f"map.{row}.kitchen"), t(f"map.{row}.real"), t(f"map.{row}.breaks")] for row in MAP_ROWS])
