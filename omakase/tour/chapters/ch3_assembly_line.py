"""Chapter 3, the assembly line: one moment of service traced through every station of the model.

The moment itself is traced by the scalar kitchen, the only one that keeps every
intermediate value; the usual pass rate over many menus uses the fast engine.
Chapter 4 scores this same moment (`moment`).
"""

from __future__ import annotations

import math

import numpy as np

from ...sample import softmax
from ..drawing import BLACK, BLUE, GREEN, ORANGE, SKY, VERMILLION, course_label, rectangle, subplots
from ..kitchen import ARTICLE, Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, course, courses_text, kitchen_table, num, pct

TYPICAL_NAMES = 200  # locked-away menus whose every course is traced for the back kitchen's usual pass rate


def moment(k: Kitchen) -> tuple[list[int], int, list[float], dict]:
    """One moment of service: the example served up to its last course by the scalar kitchen.

    Returns the courses served, the true next one, Ming's vote for it and the last course's trace.
    """
    tok, engine = k.tokenizer, k.scalar()
    tokens = tok.encode(k.example)
    served, truth = tokens[:-2], tokens[-2]
    cache, trace = engine.new_cache(), {}
    for pos, token in enumerate(served):
        trace = {}
        logits = engine.forward_token(token, pos, cache, trace)
    return served, truth, softmax([v.data for v in logits]), trace


def measure(k: Kitchen) -> dict:
    """The moment traced through every station, and how the back kitchen usually behaves."""
    tok = k.tokenizer
    served, truth, probs, trace = moment(k)
    top = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)[:5]
    stream, after_attention, after_mlp = trace["stream_in"][0], trace["after_attention"][0], trace["residual"][0]
    return {
        "served": [tok.label(t) for t in served], "truth": tok.label(truth), "p_truth": probs[truth],
        "n_layer": k.config.n_layer, "n_head": k.config.n_head, "n_embd": k.config.n_embd,
        "attention": trace["attention"][0],
        "width": len(trace["mlp_hidden"][0]), "passed": sum(h > 0 for h in trace["mlp_hidden"][0]),
        "mlp_pre": trace["mlp_pre"][0],
        "embedding": size(trace["embedding"]), "cleansed": size(stream),
        "added": size(np.subtract(after_attention, stream)), "after_attention": size(after_attention),
        "after_mlp": size(trace["residual"][-1]),
        "mlp_added": size(np.subtract(after_mlp, after_attention)),  # the back kitchen's spoonful (first line)
        # the course's numbers at each station of the first line: what the assembly-line figure draws
        "stations": {"embedding": trace["embedding"], "cleansed": stream, "after_attention": after_attention,
                     "after_mlp": after_mlp},
        "vote": [(tok.label(i), probs[i]) for i in top], "article_vote": ARTICLE["vote"] if k.on_names else [],
        "typical": typical_pass(k),
    }


def typical_pass(k: Kitchen) -> dict:
    """How many back-kitchen ideas pass quality control (first line) at every course of many locked-away menus.

    One moment can be unusual; this is the usual. The fast engine traces each course as the scalar one does.
    """
    engine, docs = k.run.engine, (k.run.val_docs or k.run.train_docs)[:TYPICAL_NAMES]
    passed, width = [], 0
    for doc in docs:
        tokens, cache = k.run.encode(doc), engine.new_cache()
        for pos in range(min(len(tokens) - 1, k.config.block_size)):  # every course Ming predicts after
            trace = {}
            engine.forward_token(tokens[pos], pos, cache, trace)
            width = len(trace["mlp_pre"][0])
            passed.append(sum(h > 0 for h in trace["mlp_pre"][0]))
    return {"menus": len(docs), "passed": passed, "width": width, "share": sum(passed) / (len(passed) * width)}


def size(v) -> float:
    return float(np.linalg.norm(v))


def tell(d: dict, t: Catalogue) -> list:
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
        Question(*question(d, t)),
    ]
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    first = [weights[0] for weights in d["attention"]]  # each chef's attention on position 1, the bell
    chef = int(np.argmax(first))
    return (t("q3.ask", n_head=d["n_head"]), t("q3.answer", chef=chef + 1, share=f"{100 * first[chef]:.1f}%"))


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
    ax.legend(handles=[rectangle((0, 0), 1, 1, color=GREEN), rectangle((0, 0), 1, 1, color=VERMILLION)],
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


FIGURES = [assembly_line, attention, supporting_roles, back_kitchen, back_kitchen_typical]
