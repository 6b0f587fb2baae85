"""Chapter 8, from cart to Michelin: Ming's shape beside the published GPTs', counted by one formula."""

from __future__ import annotations

import math

from ...config import GPTConfig, count_params
from ..drawing import BLACK, BLUE, GREEN, ORANGE, SKY, log_labels, rectangle, subplots
from ..live_model import Kitchen
from ..story import Catalogue, Figure, Para, Question, Table

# Published shapes: layers, width, heads, vocabulary, context; and the published parameter count.
BIG_KITCHENS = [
    ("GPT-2 small", 12, 768, 12, 50257, 1024, 124e6),
    ("GPT-2 XL", 48, 1600, 25, 50257, 1024, 1.5e9),
    ("GPT-3", 96, 12288, 96, 50257, 2048, 175e9),
]
# Karpathy publishes microgpt's count too (4,192 parameters), for this one shape:
# names.txt's 27 tokens, 1 layer, width 16, 4 heads, context 16. A Ming of another shape has no published count.
MICROGPT = (GPTConfig(27, 1, 16, 4, 16), 4192)


def measure(k: Kitchen) -> dict:
    c = k.config
    models = [{"name": "Ming", "n_layer": c.n_layer, "n_embd": c.n_embd, "n_head": c.n_head,
               "vocab": c.vocab_size, "context": c.block_size, "formula": count_params(c),
               "published": MICROGPT[1] if c == MICROGPT[0] else None}]
    for name, n_layer, n_embd, n_head, vocab, context, published in BIG_KITCHENS:
        shape = GPTConfig(vocab, n_layer, n_embd, n_head, context)
        models.append({"name": name, "n_layer": n_layer, "n_embd": n_embd, "n_head": n_head, "vocab": vocab,
                       "context": context, "formula": count_params(shape), "published": published})
    # the factor is computed from the published count of the largest kitchen, never written by hand
    biggest = max(models[1:], key=lambda m: m["published"])
    return {"models": models, "n_docs": len(k.ming.docs), "vocab": c.vocab_size,
            # the records counted as the big kitchens count theirs: every course to predict, closing bells included
            "n_tokens": sum(len(doc) + 1 for doc in k.ming.docs),
            "biggest": biggest["name"], "factor": biggest["published"] / count_params(c),
            "seconds": k.ming.record.get("seconds"), "engine": k.ming.record.get("engine")}


def tell(d: dict, t: Catalogue) -> list:
    # the first kitchen is the toured Ming, called by his name in the reader's language
    names = [t("ming") if i == 0 else m["name"] for i, m in enumerate(d["models"])]
    # two narrow tables rather than one wide one: each fits an 80-column terminal and a phone
    shapes = [[name, str(m["n_layer"]), f"{m['n_embd']:,}", f"{m['vocab']:,}", f"{m['context']:,}"]
              for name, m in zip(names, d["models"])]
    counts = [[name, f"{m['formula']:,}", "—" if m["published"] is None else f"{m['published']:,.0f}"]
              for name, m in zip(names, d["models"])]
    minute = "—" if d["seconds"] is None else t("ch8.seconds", seconds=f"{d['seconds']:.1f}", engine=d["engine"])
    scale = [[t("ch8.dials"), f"{d['models'][0]['formula']:,}", t("ch8.article_dials")],
             [t("ch8.records"), t("ch8.our_records", n_docs=f"{d['n_docs']:,}", tokens=f"{d['n_tokens']:,}"),
              t("ch8.article_records")],
             [t("ch8.vocabulary"), f"{d['vocab']}", t("ch8.article_vocabulary")],
             [t("ch8.stoves"), t("ch8.one_machine"), t("ch8.article_stoves")],
             [t("ch8.time"), minute, t("ch8.article_time")]]
    return [
        Para(t("ch8.cart")),
        Table([t("col.model"), t("col.layers"), t("col.width"), t("col.vocabulary"), t("col.context")], shapes),
        Table([t("col.model"), t("col.formula"), t("col.published")], counts),
        Question(*question(d, t)),
        Para(t("ch8.formula", biggest=d["biggest"], factor=f"{d['factor']:,.0f}",
               n_params=f"{d['models'][0]['formula']:,}")),
        Figure("scale", t("fig.scale.alt", biggest=d["biggest"], factor=f"{d['factor']:,.0f}")),
        Table(["", t("col.ours"), t("col.article_chatgpt")], scale),
        Para(t("ch8.menu")),
        Para(t("ch8.critics")),
    ]


def question(d: dict, t) -> tuple[str, str]:
    """Where our formula and GPT-2's published count part: GPT-2 uses one set of cards at the door and at the
    final vote, where Ming keeps two; the reader can work out what that saves from chapter 2's cards."""
    gpt2 = d["models"][1]
    saved = gpt2["vocab"] * gpt2["n_embd"]  # one card per course, n_embd numbers each
    return (t("q8.ask", model=gpt2["name"], formula=f"{gpt2['formula']:,}", published=f"{gpt2['published']:,.0f}",
              vocab=f"{gpt2['vocab']:,}", width=f"{gpt2['n_embd']:,}"),
            t("q8.answer", saved=f"{saved:,}", vocab=f"{gpt2['vocab']:,}", width=f"{gpt2['n_embd']:,}",
              left=f"{gpt2['formula'] - saved:,}", published=f"{gpt2['published']:,.0f}"))


def scale(d: dict, w):
    """The published counts two ways: squares whose areas are to scale (Ming's is far too small to see, which is
    the point), and bars on a scale of powers of ten with each kitchen's factor over Ming written out."""
    names = [w("ming") if i == 0 else m["name"] for i, m in enumerate(d["models"])]
    # the published counts (GPT-2 and GPT-3 tie their cards, so our formula overcounts them); Ming's own is exact
    counts = [m["published"] or m["formula"] for m in d["models"]]
    fig, (area, bars) = subplots(1, 2, figsize=(8, 3.4), width_ratios=[1, 1.5])
    side = math.sqrt(max(counts))
    labelled = 0
    for name, c, colour in sorted(zip(names, counts, [ORANGE, SKY, BLUE, GREEN]), key=lambda x: -x[1]):
        s = math.sqrt(c) / side  # area to scale: a square's side is the square root of its count
        area.add_patch(rectangle((0, 0), s, s, facecolor=colour, edgecolor=BLACK, linewidth=0.5))
        if s > 0.12:
            area.text(s - 0.02, s - 0.03, name, ha="right", va="top", fontsize=8)
        elif c != counts[0]:  # a small square: named from outside it, in the space the big one leaves
            labelled += 1
            area.annotate(name, (s, s), xytext=(0.12 + 0.1 * labelled, 0.12 + 0.14 * labelled),
                          textcoords="axes fraction", fontsize=8, color="white",
                          arrowprops={"arrowstyle": "-", "color": "white", "linewidth": 0.8})
    ming = counts[0]
    area.annotate(w("scale.too_small", name=names[0], share=f"{max(counts) / ming:,.0f}"), (0, 0),
                  xytext=(0.3, 0.72), textcoords="axes fraction", fontsize=8, ha="left", color="white",
                  arrowprops={"arrowstyle": "-|>", "color": "white"})
    area.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", title=w("scale.area"))
    area.axis("off")
    bars.barh(names, counts, color=[ORANGE, SKY, BLUE, GREEN][: len(names)])
    for i, c in enumerate(counts):
        label = f"{c:,.0f}" if i == 0 else w("scale.factor", count=f"{c:,.0f}", factor=f"{c / ming:,.0f}")
        bars.annotate(label, (c, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    bars.set(xscale="log", xlabel=w("scale.x"), title=w("scale.log"), xlim=(1e3, 1e16))
    log_labels(bars.xaxis)
    bars.invert_yaxis()
    fig.suptitle(w("scale.title", biggest=names[-1], factor=f"{counts[-1] / ming:,.0f}"), fontsize=9)
    return fig, [["model", "layers", "n_embd", "heads", "vocab", "context", "params_formula", "params_published"]] + [
        [m["name"], m["n_layer"], m["n_embd"], m["n_head"], m["vocab"], m["context"], m["formula"],
         m["published"] or ""] for m in d["models"]]


FIGURES = [scale]
