"""Chapter 4, the diner's scorecard: the penalty (cross-entropy) of a bet, and of chapter 3's moment."""

from __future__ import annotations

import math

from ..drawing import BLUE, GREEN, ORANGE, VERMILLION, log_labels, subplots
from ..live_model import ARTICLE, Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, course, kitchen_table, num, pct
from .ch3_assembly_line import moment


def measure(k: Kitchen) -> dict:
    """Penalties computed from first principles, the blindfolded guess, and chapter 3's moment scored."""
    vocab = k.tokenizer.vocab_size
    losses = k.ming.final.run.get("losses") or []
    _, truth, probs, _ = moment(k)  # the scalar kitchen serves it again: a few courses, a moment's work
    return {
        "penalties": [(p, math.log(1 / p)) for p in (1.0, 0.1, 0.001)],
        "vocab": vocab, "blind": math.log(vocab), "article_blind": ARTICLE["blind"] if k.on_names else None,
        "step1": losses[0] if losses else None,
        "truth": k.tokenizer.label(truth), "p_truth": probs[truth], "penalty": -math.log(probs[truth]),
        # Ming's last held-out loss, for the question: an average penalty read back as a typical bet
        "held_out": next((v["loss"] for v in reversed(k.ming.final.run.get("val") or [])), None),
    }


def tell(d: dict, t: Catalogue) -> list:
    words = ("certain", "ten", "tenth_of_one")
    rows = [[pct(p), num(penalty), t("whose.computed"), t(f"ch4.article_{w}")]
            for (p, penalty), w in zip(d["penalties"], words)]
    blocks = [
        Para(t("ch4.penalty")),
        Table([t("col.bet"), t("col.penalty"), t("col.whose"), t("col.article_says")], rows),
        Para(t("ch4.blindfold", vocab=d["vocab"], blind=num(d["blind"]))),
        kitchen_table(t, [("blind", num(d["blind"], 4), "computed")]
                      + ([("blind", f"{d['article_blind']}", "article")] if d["article_blind"] is not None else [])
                      + ([("first_dish", num(d["step1"], 4), "ours")] if d["step1"] is not None else [])),
    ]
    if d["step1"] is not None:
        gap = d["step1"] - d["blind"]  # "close to the blindfold" only when it is; otherwise which side
        key = "ch4.first_dish" if abs(gap) < 0.25 else "ch4.first_dish_far" if gap > 0 else "ch4.first_dish_less"
        blocks.append(Para(t(key, step1=num(d["step1"]), blind=num(d["blind"]))))
    blocks += [Para(t("ch4.moment", truth=course(t, d["truth"]), p_truth=pct(d["p_truth"]), penalty=num(d["penalty"]))),
               Figure("penalty", t("fig.penalty.alt", blind=num(d["blind"]), vocab=d["vocab"],
                                   p_blind=pct(1 / d["vocab"]))),
               Question(*question(d, t))]
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    """An average penalty read back as a bet: -ln p = loss, so the typical share on the truth is e^-loss."""
    loss = d["held_out"] if d["held_out"] is not None else d["penalty"]
    share = math.exp(-loss)
    return (t("q4.ask" if d["held_out"] is not None else "q4.ask_moment", loss=num(loss)),
            t("q4.answer", loss=num(loss), share=pct(share), p_blind=pct(1 / d["vocab"]), vocab=d["vocab"],
              times=f"{share * d['vocab']:.1f}"))


def penalty(d: dict, w):
    fig, ax = subplots(figsize=(5.5, 3))
    ps = [10 ** (-3.2 + 3.2 * i / 200) for i in range(201)]
    ax.plot(ps, [-math.log(p) for p in ps], color=BLUE)
    for p, pen in d["penalties"]:
        ax.plot([p], [pen], "o", color=VERMILLION, clip_on=False)  # whole, at the edge too
        right_edge = p > 0.5  # its words go below left of it: the axis ends at a probability of 1
        ax.annotate(f"{100 * p:g}%: {pen:.2f}", (p, pen), textcoords="offset points",
                    xytext=(-6, -6) if right_edge else (6, 4), ha="right" if right_edge else "left",
                    va="top" if right_edge else "baseline")
    ax.axhline(d["blind"], color=ORANGE, linestyle="--",
               label=w("penalty.blind", vocab=d["vocab"], blind=f"{d['blind']:.2f}"))
    ax.plot([d["p_truth"]], [d["penalty"]], "s", color=GREEN, label=w("penalty.ming", truth=d["truth"]))
    ax.set(xscale="log", xlim=(4e-4, 1), ylim=(-1, None), xlabel=w("penalty.x"), ylabel=w("penalty_axis"),
           title=w("penalty.title"))
    log_labels(ax.xaxis, powers=False)  # a probability reads best as 0.01
    ax.legend(frameon=False, fontsize=8)
    rows = [["probability", "penalty", "what"]] + [[p, pen, "computed"] for p, pen in d["penalties"]]
    return fig, rows + [[1 / d["vocab"], d["blind"], "blindfolded"], [d["p_truth"], d["penalty"], "ming"]]


FIGURES = [penalty]
