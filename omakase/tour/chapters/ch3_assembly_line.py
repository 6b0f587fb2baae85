"""Chapter 3, the assembly line: one moment of service traced through every station of the model.

The moment itself is traced by the scalar kitchen, the only one that keeps every
intermediate value; the usual pass rate over many menus uses the fast engine.
One sous chef's part of the roundtable is then recomputed here from Ming's dials
(query, keys, scores, shares, values), and checked against the shares the
kitchen itself traced. Chapter 4 scores this same moment (`moment`).
"""

from __future__ import annotations

import math

import numpy as np

from ...anatomy import size
from ...sample import softmax
from ...engines.numpy import rmsnorm
from ..drawing import BLACK, BLUE, GREEN, ORANGE, SKY, VERMILLION, YELLOW, course_label, rectangle, subplots
from ..live_model import ARTICLE, Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, course, courses_text, kitchen_table, num, pct
from .ch8_michelin import BIG_KITCHENS

TYPICAL_NAMES = 200  # locked-away menus whose every course is traced for the back kitchen's usual pass rate


def moment(k: Kitchen) -> tuple[list[int], int, list[float], dict]:
    """One moment of service: the example served up to its last course by the scalar kitchen.

    Returns the courses served, the true next one, Ming's vote for it and the last course's trace; the trace
    also holds "served_streams", the stock each course served brought to the first roundtable.
    """
    tok, engine = k.tokenizer, k.scalar()
    tokens = tok.encode(k.example)
    served, truth = tokens[:-2], tokens[-2]
    cache, trace, streams = engine.new_cache(), {}, []
    for pos, token in enumerate(served):
        trace = {}
        logits = engine.forward_token(token, pos, cache, trace)
        streams.append(trace["stream_in"][0])
    trace["served_streams"] = streams
    return served, truth, softmax([v.data for v in logits]), trace


def cleanse(v) -> np.ndarray:
    """The palate cleanser (RMSNorm) on one course's numbers."""
    return rmsnorm(np.asarray(v, dtype=float))[0]


def roundtable(k: Kitchen, streams: list[list[float]], traced: list[list[float]]) -> dict:
    """One sous chef's part of the first roundtable for the last course, recomputed from Ming's dials.

    The chef followed is the one whose attention is most decided (the largest single share), so the
    reader sees a clear choice. Every number comes from the dials and the traced stock; the shares are
    checked against the ones the kitchen itself traced.
    """
    c, params = k.config, k.ming.final.params
    hd = c.head_dim
    wq, wk, wv, wo = (np.array(params[f"layer0.attn_{m}"]) for m in ("wq", "wk", "wv", "wo"))
    cleansed = [cleanse(x) for x in streams]  # the cleanser before the roundtable, for every course served
    chef = int(np.argmax([max(w) for w in traced]))
    part = slice(chef * hd, (chef + 1) * hd)
    query = (wq @ cleansed[-1])[part]
    keys = [(wk @ x)[part] for x in cleansed]
    values = [(wv @ x)[part] for x in cleansed]
    scores = [float(query @ key) / math.sqrt(hd) for key in keys]
    shares = softmax(scores)
    if not np.allclose(shares, traced[chef], atol=1e-9):
        raise AssertionError("the recomputed roundtable does not match the traced one")
    handed = sum(share * value for share, value in zip(shares, values))
    # every chef's handed-over numbers, side by side, pressed by the output dials into one spoonful
    heads = np.concatenate([sum(w * (wv @ x)[h * hd:(h + 1) * hd] for w, x in zip(traced[h], cleansed))
                            for h in range(c.n_head)])
    spoonful = wo @ heads
    stock = np.asarray(streams[-1])
    return {"chef": chef + 1, "head_dim": hd, "query": query.tolist(), "keys": [x.tolist() for x in keys],
            "values": [v.tolist() for v in values], "scores": scores, "shares": shares,
            "shifted": softmax([x + 1 for x in scores]), "handed": handed.tolist(),
            "spoonful": size(spoonful), "stock": size(stock), "sum": size(stock + spoonful),
            "cosine": float(stock @ spoonful / (size(stock) * size(spoonful)))}


def measure(k: Kitchen) -> dict:
    """The moment traced through every station, and how the back kitchen usually behaves."""
    tok = k.tokenizer
    served, truth, probs, trace = moment(k)
    top = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)[:5]
    stream, after_attention, after_mlp = trace["stream_in"][0], trace["after_attention"][0], trace["residual"][0]
    biggest = max(BIG_KITCHENS, key=lambda m: m[1])
    return {
        "served": [tok.label(t) for t in served], "truth": tok.label(truth), "p_truth": probs[truth],
        "n_layer": k.config.n_layer, "n_head": k.config.n_head, "n_embd": k.config.n_embd,
        "big_lines": [(name, layers) for name, layers, *_ in BIG_KITCHENS], "most_lines": biggest[:2],
        "attention": trace["attention"][0],
        "width": len(trace["mlp_hidden"][0]), "passed": sum(h > 0 for h in trace["mlp_hidden"][0]),
        "mlp_pre": trace["mlp_pre"][0],
        # the sizes along the first line: every cleanser, every spoonful, the stock after each
        "embedding": size(trace["embedding"]), "cleansed": size(stream),
        "before_roundtable": size(cleanse(stream)),
        "added": size(np.subtract(after_attention, stream)), "after_attention": size(after_attention),
        "before_back_kitchen": size(cleanse(after_attention)),
        "mlp_added": size(np.subtract(after_mlp, after_attention)),  # the back kitchen's spoonful (first line)
        "after_mlp": size(trace["residual"][-1]),
        "roundtable": roundtable(k, trace["served_streams"], trace["attention"][0]),
        "vote": [(tok.label(i), probs[i]) for i in top], "article_vote": ARTICLE["vote"] if k.on_names else [],
        "typical": typical_pass(k),
    }


def typical_pass(k: Kitchen) -> dict:
    """How many back-kitchen ideas pass quality control (first line) at every course of many locked-away menus.

    One moment can be unusual; this is the usual. The fast engine traces each course as the scalar one does.
    """
    engine, docs = k.run.engine, (k.run.val_docs or k.run.train_docs)[:TYPICAL_NAMES]
    tokens, _, saved = k.batched(docs)
    if saved is not None:  # the fast engine: every menu at once; the first line's pre-ReLU values are saved[1][14]
        pre = saved[1][14]
        passed = [int((pre[row, pos] > 0).sum()) for row, t in enumerate(tokens) for pos in range(len(t) - 1)]
        width = pre.shape[-1]
        return {"menus": len(docs), "passed": passed, "width": width, "share": sum(passed) / (len(passed) * width)}
    passed, width = [], 0
    for doc in docs:
        tokens, cache = k.run.encode(doc), engine.new_cache()
        for pos in range(min(len(tokens) - 1, k.config.block_size)):  # every course Ming predicts after
            trace = {}
            engine.forward_token(tokens[pos], pos, cache, trace)
            width = len(trace["mlp_pre"][0])
            passed.append(sum(h > 0 for h in trace["mlp_pre"][0]))
    return {"menus": len(docs), "passed": passed, "width": width, "share": sum(passed) / (len(passed) * width)}


def vector(v) -> str:
    return " ".join(f"{x:+.2f}" for x in v)


def tell(d: dict, t: Catalogue) -> list:
    served, typical, r = courses_text(t, d["served"]), d["typical"], d["roundtable"]
    last = course(t, d["served"][-1])
    lines = t.join(t("ch3.lines_of", model=name, n=layers) for name, layers in d["big_lines"])
    blocks = [Para(t("ch3.moment", served=served, truth=course(t, d["truth"]), last=last, n=len(d["served"]))),
              Para(t("ch3.line" if d["n_layer"] == 1 else "ch3.lines", n_layer=d["n_layer"], lines=lines,
                     most=d["most_lines"][0],
                     most_n=d["most_lines"][1])),
              Figure("assembly_line", t("fig.assembly_line.alt", last=last, start=num(d["embedding"]),
                                        end=num(d["after_mlp"]), top=course(t, d["vote"][0][0]),
                                        p_top=pct(d["vote"][0][1])))]
    if d["n_layer"] > 1:
        blocks.append(Para(t("ch3.layers", n_layer=d["n_layer"])))
    # a non-breaking space: "3: m" is one label, never broken across two lines
    positions = [f"{pos + 1}:\u00a0{course(t, label)}" for pos, label in enumerate(d["served"])]
    follow = [[positions[j], vector(key), f"{score:+.2f}", pct(share), vector(value)]
              for j, (key, score, share, value) in enumerate(zip(r["keys"], r["scores"], r["shares"], r["values"]))]
    best = int(np.argmax(r["shares"]))
    blocks += [
        Para(t("ch3.stock", embedding=num(d["embedding"]), cleansed=num(d["cleansed"]), n_embd=d["n_embd"])),
        Para(t("ch3.roundtable", n_head=d["n_head"], n=len(d["served"]))),
        Para(t("ch3.query", chef=r["chef"], last=last, hd=r["head_dim"], root=f"{math.sqrt(r['head_dim']):.3g}",
               query=vector(r["query"]))),
        Table([t("col.course_served"), t("col.key"), t("col.score"), t("col.share"), t("col.value_handed")], follow),
        Para(t("ch3.vote_rule", best_n=best + 1, best=course(t, d["served"][best]), share=pct(r["shares"][best]),
               chef=r["chef"])),
        Question(*question(d, t)),
        Para(t("ch3.handed", chef=r["chef"], handed=vector(r["handed"]), hd=r["head_dim"])),
        Para(t("ch3.all_chefs", n_head=d["n_head"])),
        *attention_tables(d, t, positions),
        Figure("attention", attention_alt(d, t)),
        Para(t("ch3.spoonful", n_head=d["n_head"], hd=r["head_dim"], n_embd=d["n_embd"], added=num(r["spoonful"]),
               stock=num(r["stock"]), after=num(r["sum"]), plain=num(r["stock"] + r["spoonful"]),
               cosine=f"{r['cosine']:.2f}")),
        Para(t("ch3.back_kitchen", width=d["width"], factor=d["width"] // d["n_embd"], n_embd=d["n_embd"],
               passed=d["passed"], before=num(d["after_attention"]), cleansed=num(d["before_back_kitchen"]),
               added=num(d["mlp_added"]), after=num(d["after_mlp"]))),
        kitchen_table(t, [("width", f"{d['width']} = {d['width'] // d['n_embd']} × {d['n_embd']}", "ours"),
                          ("passed", f"{d['passed']} / {d['width']}", "ours"),
                          ("size_before", num(d["embedding"]), "ours"), ("size_after", num(d["cleansed"]), "ours"),
                          ("spoonful", num(d["added"]), "ours"), ("size_end", num(d["after_mlp"]), "ours")]),
        Figure("supporting_roles", t("fig.supporting_roles.alt", cleansed=num(d["cleansed"]),
                                     added=num(d["added"]), stock=num(d["cleansed"]), after=num(d["after_attention"]))),
        Figure("back_kitchen", t("fig.back_kitchen.alt", width=d["width"], passed=d["passed"])),
        Para(t("ch3.typical", menus=f"{typical['menus']:,}", courses=f"{len(typical['passed']):,}",
               usual=f"{typical['share'] * typical['width']:.1f}", share=pct(typical["share"]), passed=d["passed"],
               width=d["width"], moment=pct(d["passed"] / d["width"]))),
        Figure("back_kitchen_typical", t("fig.back_kitchen_typical.alt", width=d["width"],
                                         usual=f"{typical['share'] * typical['width']:.1f}", passed=d["passed"],
                                         courses=f"{len(typical['passed']):,}")),
        Para(t("ch3.vote" if d["article_vote"] else "ch3.vote_custom")),
        vote_table(d, t),
        Para(t("ch3.truth", truth=course(t, d["truth"]), p_truth=pct(d["p_truth"]))),
    ]
    return blocks


COURSES_PER_TABLE = 7  # columns of shares in one table: with the chef's name and the total, 80 terminal columns


def attention_tables(d: dict, t: Catalogue, positions: list[str]) -> list[Table]:
    """Every chef's share of every course served, as one table, or several side by side in the menu's order when
    the menu is long (each fits a terminal and a phone); the total closes the last."""
    tables = []
    for start in range(0, len(positions), COURSES_PER_TABLE):
        part = slice(start, start + COURSES_PER_TABLE)
        last = start + COURSES_PER_TABLE >= len(positions)
        headers = [t("col.chef")] + positions[part] + ([t("col.sum")] if last else [])
        rows = [[t("ch3.chef", number=h + 1)] + [pct(w) for w in weights[part]] + ([pct(sum(weights))] if last else [])
                for h, weights in enumerate(d["attention"])]
        tables.append(Table(headers, rows))
    return tables


def vote_table(d: dict, t: Catalogue) -> Table:
    """Ming's top five and, beside them in their own columns, the article's vote (when it has one)."""
    article = d["article_vote"]
    headers = ["#", t("col.course_ours"), t("col.share_ours")] + (
        [t("col.course_article"), t("col.share_article")] if article else [])
    rows = []
    for i, (label, p) in enumerate(d["vote"]):
        row = [str(i + 1), course(t, label), pct(p)]
        if article:
            row += [article[i][0], pct(article[i][1])] if i < len(article) else ["", ""]
        rows.append(row)
    return Table(headers, rows)


def attention_alt(d: dict, t: Catalogue) -> str:
    """The heatmap's finding: which course the chefs together look at most."""
    totals = np.sum(d["attention"], axis=0) / len(d["attention"])
    j = int(np.argmax(totals))
    return t("fig.attention.alt", n_head=d["n_head"], course=f"{j + 1}: {course(t, d['served'][j])}",
             share=pct(totals[j]))


def question(d: dict, t) -> tuple[str, str]:
    r = d["roundtable"]
    moved = max(abs(a - b) for a, b in zip(r["shares"], r["shifted"]))  # computed again with every score + 1
    return (t("q3.ask", chef=r["chef"]),
            t("q3.answer" if moved < 1e-9 else "q3.answer_moved", shares=t.join(pct(p) for p in r["shifted"])))


def assembly_line(d: dict, w):
    """One course down the line: boxes for the stations, arrows for the stock, each labelled with its size; in two
    rows, so that the figure keeps readable words when it shrinks to a phone's width."""
    last = course_label(d["served"][-1], w)
    steps = [  # (label, size written under it, colour)
        (w("assembly.card", course=last), d["embedding"], SKY),
        (w("assembly.cleanser"), d["cleansed"], GREEN),
        (w("assembly.roundtable"), d["added"], ORANGE),
        (w("assembly.stock"), d["after_attention"], BLUE),
        (w("assembly.back_kitchen", passed=d["passed"], width=d["width"]), d["mlp_added"], ORANGE),
        (w("assembly.stock"), d["after_mlp"], BLUE),
    ]
    places = [(0, 1), (1, 1), (2, 1), (3, 1), (1, 0), (2, 0), (3, 0)]  # (column, row): the vote ends the second row
    fig, ax = subplots(figsize=(6.4, 3.2))
    rows = [["station", "size"]]
    for (x, y), (label, value, colour) in zip(places, steps):
        ax.text(x, y, label, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": BLACK, "linewidth": 0.6,
                      "alpha": 0.85})
        ax.text(x, y - 0.33, w("assembly.size", size=f"{value:.2f}"), ha="center", fontsize=9)
        rows.append([label.replace("\n", " "), value])
    for (a, b) in zip(places, places[1:]):
        if a[1] == b[1]:
            ax.annotate("", (b[0] - 0.36, b[1]), (a[0] + 0.36, a[1]), arrowprops={"arrowstyle": "-|>", "color": BLACK})
        else:  # down from the end of the first row to the back kitchen
            ax.annotate("", (b[0] + 0.2, b[1] + 0.28), (a[0] - 0.2, a[1] - 0.42),
                        arrowprops={"arrowstyle": "-|>", "color": BLACK, "connectionstyle": "arc3,rad=-0.2"})
    vote = "\n".join(f"{course_label(c, w)} {100 * p:.0f}%" for c, p in d["vote"][:3])
    x, y = places[len(steps)]
    ax.text(x, y, w("assembly.vote") + "\n" + vote, ha="center", va="center", fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": YELLOW, "edgecolor": BLACK, "linewidth": 0.6})
    rows += [["vote", f"{c}: {p}"] for c, p in d["vote"]]
    for x, y in (places[2], places[4]):  # the cleanser each station has before it
        ax.text(x, y + 0.3, w("assembly.cleansed_first"), ha="center", fontsize=8, color=GREEN)
    ax.set(xlim=(-0.55, 3.55), ylim=(-0.55, 1.5),
           title=w("assembly.title", served=" ".join(course_label(c, w) for c in d["served"]), truth=d["truth"]))
    ax.axis("off")
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
    """Every size along the first line: each palate cleanser, each spoonful, the stock after each."""
    end = w("roles.end") if d["n_layer"] == 1 else w("roles.end_lines", n=d["n_layer"])
    steps = [(w("roles.card"), d["embedding"], SKY), (w("roles.cleanser_door"), d["cleansed"], GREEN),
             (w("roles.cleanser_roundtable"), d["before_roundtable"], GREEN),
             (w("roles.spoon_attention"), d["added"], ORANGE), (w("roles.after_attention"), d["after_attention"], BLUE),
             (w("roles.cleanser_back"), d["before_back_kitchen"], GREEN),
             (w("roles.spoon_mlp"), d["mlp_added"], ORANGE), (end, d["after_mlp"], BLUE)]
    fig, ax = subplots(figsize=(6.5, 3.2))
    ax.barh([s for s, _, _ in steps][::-1], [v for _, v, _ in steps][::-1], color=[c for _, _, c in steps][::-1])
    for i, (_, v, _) in enumerate(steps[::-1]):
        ax.annotate(f"{v:.2f}", (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.margins(x=0.12)
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
    """How many ideas pass quality control, course after course of locked-away menus: a count of courses for
    each number of ideas passed, with the usual number and this moment's marked in the same unit (ideas)."""
    typical, width = d["typical"], d["typical"]["width"]
    counts = [0] * (width + 1)
    for passed in typical["passed"]:
        counts[passed] += 1
    top = max(i for i, c in enumerate(counts) if c) + 1
    usual = typical["share"] * width
    fig, ax = subplots(figsize=(6, 2.8))
    ax.bar(range(top + 1), counts[: top + 1], color=[VERMILLION if i == d["passed"] else SKY for i in range(top + 1)],
           width=0.9)
    ax.axvline(usual, color=BLUE, linestyle="--")
    ax.annotate(w("typical.usual", usual=f"{usual:.1f}", width=width), (usual, max(counts)), xytext=(4, -2),
                textcoords="offset points", va="top", fontsize=8, color=BLUE)
    ax.annotate(w("typical.now", passed=d["passed"]), (d["passed"], counts[d["passed"]]),
                xytext=(usual + 0.3 * (top - usual), 0.55 * max(counts)), fontsize=8, color=VERMILLION,
                arrowprops={"arrowstyle": "-|>", "color": VERMILLION})
    ax.set(xlabel=w("typical.x", width=width), ylabel=w("typical.y"),
           title=w("typical.title", courses=f"{len(typical['passed']):,}", menus=f"{typical['menus']:,}"))
    ax.margins(y=0.15)
    return fig, [["ideas_passed", "courses"]] + [[i, c] for i, c in enumerate(counts)]


FIGURES = [assembly_line, attention, supporting_roles, back_kitchen, back_kitchen_typical]
