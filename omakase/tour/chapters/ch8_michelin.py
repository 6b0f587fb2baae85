"""Chapter 8, from cart to Michelin: Ming's shape beside the published GPTs', counted by one formula."""

from __future__ import annotations

from ...config import GPTConfig, count_params
from ..drawing import BLUE, ORANGE, log_labels, subplots
from ..kitchen import Kitchen
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
        Question(*question(d, t)),
    ]


def question(d: dict, t) -> tuple[str, str]:
    gpt2 = d["models"][1]
    mings = gpt2["published"] / d["models"][0]["formula"]
    return (t("q8.ask", model=gpt2["name"], published=f"{gpt2['published']:,.0f}"),
            t("q8.answer", model=gpt2["name"], mings=f"{mings:,.0f}"))


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
    log_labels(ax.xaxis)
    ax.invert_yaxis()
    return fig, [["model", "layers", "n_embd", "heads", "vocab", "context", "params_formula", "params_published"]] + [
        [m["name"], m["n_layer"], m["n_embd"], m["n_head"], m["vocab"], m["context"], m["formula"],
         m["published"] or ""] for m in d["models"]]


FIGURES = [scale]
