"""Chapter 7, graduation: Ming cooks alone, and the risk dial (temperature) decides how boldly."""

from __future__ import annotations

import numpy as np

from ...sample import cook, softmax
from ..drawing import BLACK, BLUE, GREEN, GREY, ORANGE, course_label, subplots
from ..live_model import ARTICLE, Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, course, pct, visible

TEMPERATURES = (0, 0.1, 0.5, 0.7, 1.0, 1.5)  # 0.7: the middle setting of the distribution figure
GREEDY_MENUS = 3  # at 0 every menu is the same: a few show it
DISTRIBUTION_TEMPERATURES = (0.1, 0.7, 1.0, 1.5)  # low, middle, the plain vote (1.0), high; each in TEMPERATURES
NAMES_PER_TEMPERATURE = 20


def measure(k: Kitchen) -> dict:
    engine, tok = k.run.engine, k.tokenizer
    menus = []
    for t in TEMPERATURES:
        names = cook(engine, tok, k.run.rng(), GREEDY_MENUS if t == 0 else NAMES_PER_TEMPERATURE, t)
        # a menu that never drew the closing bell was cut at the block size: unfinished, not invented
        cut = [n for n in names if len(n) >= k.config.block_size]
        invented = [n for n in names if n and n not in k.records and n not in cut]
        menus.append({"temperature": t, "names": names, "invented": len(invented), "cut": len(cut), "n": len(names)})
    cooked = {n for m in menus for n in m["names"]}
    by_temperature = {m["temperature"]: m["names"] for m in menus}
    logits = engine.logits(engine.new_cache(), tok.bos, 0)
    return {
        "menus": menus, "greedy": menus[0]["names"][0], "block": k.config.block_size, "greedy_same": len(set(menus[0]["names"])) == 1,
        "article_names": [(n, n in k.records, n in cooked) for n in ARTICLE["names"]] if k.on_names else [],
        "distribution": {"labels": [tok.label(i) for i in range(tok.vocab_size)],
                         "temperatures": list(DISTRIBUTION_TEMPERATURES),
                         "probs": [softmax(logits, t) for t in DISTRIBUTION_TEMPERATURES],
                         "names": [by_temperature[t][:3] for t in DISTRIBUTION_TEMPERATURES]},  # cooked at each
    }


def tell(d: dict, t: Catalogue) -> list:
    rows = [[f"{m['temperature']:g}", " ".join(visible(n) or "∅" for n in m["names"]),
             f"{m['invented']} / {m['n']} ({pct(m['invented'] / m['n'])})"]
            for m in d["menus"]]
    cut = sum(m["cut"] for m in d["menus"])
    article_rows = [[name, t("yes") if known else t("no"), t("yes") if cooked else t("no")]
                    for name, known, cooked in d["article_names"]]
    greedy = "ch7.greedy_same" if d["greedy_same"] else "ch7.greedy_differs"
    return [
        Para(t("ch7.alone")),
        Table([t("col.temperature"), t("col.names"), t("col.invented")], rows),
        Para(t(greedy, greedy=visible(d["greedy"]), n=d["menus"][0]["n"], others=d["menus"][1]["n"])),
    ] + ([Para(t("ch7.cut", cut=cut, block=d["block"]))] if cut else []) + ([
        Para(t("ch7.invented")),
        Table([t("col.article_name"), t("col.in_records"), t("col.cooked")], article_rows),
    ] if article_rows else [Para(t("ch7.invented_custom"))]) + [
        Para(t("ch7.dial", n=len(d["distribution"]["temperatures"]))),
        Question(*question(d, t)),
        Figure("temperature", temperature_alt(d, t)),
    ]


def favourite(d: dict) -> tuple[int, dict[float, float]]:
    """Ming's favourite first course (at temperature 1) and its share of the vote at each setting drawn."""
    dist = d["distribution"]
    plain = dist["probs"][dist["temperatures"].index(1.0)]
    top = int(np.argmax(plain))
    return top, {temp: probs[top] for temp, probs in zip(dist["temperatures"], dist["probs"])}


def temperature_alt(d: dict, t: Catalogue) -> str:
    top, shares = favourite(d)
    low, high = min(shares), max(shares)
    return t("fig.temperature.alt", course=course(t, d["distribution"]["labels"][top]), low=f"{low:g}",
             high=f"{high:g}", p_low=pct(shares[low]), p_one=pct(shares[1.0]), p_high=pct(shares[high]))



def question(d: dict, t) -> tuple[str, str]:
    top, shares = favourite(d)
    low, high = min(shares), max(shares)
    return (t("q7.ask", course=course(t, d["distribution"]["labels"][top]), p_one=pct(shares[1.0]), low=f"{low:g}",
              high=f"{high:g}"),
            t("q7.answer", p_low=pct(shares[low]), p_high=pct(shares[high]), p_one=pct(shares[1.0]), low=f"{low:g}",
              high=f"{high:g}",
              grow=f"{1 / low:g}", shrink=f"{1 / high:.2f}"))


def temperature(d: dict, w):
    """Ming's vote for the first course at three risk-dial settings, and names he cooked at each."""
    dist = d["distribution"]
    labels = [course_label(lab, w) for lab in dist["labels"]]
    plain = dist["probs"][dist["temperatures"].index(1.0)]
    fig, axes = subplots(len(dist["temperatures"]), 1, figsize=(7.5, 1.35 * len(dist["temperatures"]) + 0.6),
                         sharex=True, sharey=True)
    for ax, t, probs, names, colour in zip(axes, dist["temperatures"], dist["probs"], dist["names"],
                                           (BLUE, ORANGE, GREY, GREEN)):
        ax.bar(range(len(labels)), probs, color=colour)
        if t != 1:  # the plain vote (temperature 1) outlined in every other panel, to compare against
            ax.bar(range(len(labels)), plain, fill=False, edgecolor=BLACK, linewidth=0.6)
        top = int(np.argmax(probs))
        ax.annotate(f"{100 * probs[top]:.0f}%", (top, probs[top]), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
        key = "temperature.panel_plain" if t == 1 else "temperature.panel"
        shown = ", ".join(visible(n) or w("empty") for n in names)
        ax.set_title(w(key, t=f"{t:g}", names=shown if len(shown) < 40 else shown[:38] + "…"), fontsize=9,
                     loc="left")
        ax.set(ylabel=w("temperature.y"), yticks=[0, 0.5, 1], ylim=(0, 1.2))
        ax.tick_params(axis="x", bottom=False)  # the letters are written once, under the last panel
    axes[-1].set_xticks(range(len(labels)), labels, fontsize=7, rotation=90 if len(labels) > 30 else 0)
    fig.suptitle(w("temperature.title", n=len(dist["temperatures"])), fontsize=9)
    rows = [["course"] + [f"t={t:g}" for t in dist["temperatures"]]]
    rows += [[lab] + [p[i] for p in dist["probs"]] for i, lab in enumerate(dist["labels"])]
    return fig, rows + [["cooked"] + [" ".join(names) for names in dist["names"]]]


FIGURES = [temperature]
