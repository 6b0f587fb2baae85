"""Chapter 7, graduation: Ming cooks alone, and the risk dial (temperature) decides how boldly."""

from __future__ import annotations

import numpy as np

from ...sample import cook, softmax
from ..drawing import BLUE, GREEN, ORANGE, course_label, subplots
from ..kitchen import ARTICLE, Kitchen
from ..story import Catalogue, Figure, Para, Question, Table, course, pct

TEMPERATURES = (0, 0.1, 0.5, 0.7, 1.0, 1.5)  # 0.7: the middle setting of the distribution figure
DISTRIBUTION_TEMPERATURES = (0.1, 0.7, 1.5)  # low, middle, high; each one of TEMPERATURES (its names are shown)
NAMES_PER_TEMPERATURE = 20


def measure(k: Kitchen) -> dict:
    engine, tok = k.run.engine, k.tokenizer
    menus = []
    for t in TEMPERATURES:
        names = cook(engine, tok, k.run.rng(), 3 if t == 0 else NAMES_PER_TEMPERATURE, t)
        invented = [n for n in names if n and n not in k.records]
        menus.append({"temperature": t, "names": names, "invented": len(invented), "n": len(names)})
    cooked = {n for m in menus for n in m["names"]}
    by_temperature = {m["temperature"]: m["names"] for m in menus}
    logits = engine.logits(engine.new_cache(), tok.bos, 0)
    return {
        "menus": menus, "greedy": menus[0]["names"][0], "greedy_same": len(set(menus[0]["names"])) == 1,
        "article_names": [(n, n in k.records, n in cooked) for n in ARTICLE["names"]] if k.on_names else [],
        "distribution": {"labels": [tok.label(i) for i in range(tok.vocab_size)],
                         "temperatures": list(DISTRIBUTION_TEMPERATURES),
                         "probs": [softmax(logits, t) for t in DISTRIBUTION_TEMPERATURES],
                         "names": [by_temperature[t][:3] for t in DISTRIBUTION_TEMPERATURES]},  # cooked at each
    }


def tell(d: dict, t: Catalogue) -> list:
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
        Question(*question(d, t)),
    ]


def question(d: dict, t) -> tuple[str, str]:
    dist = d["distribution"]
    low, high = dist["probs"][0], dist["probs"][-1]
    top = int(np.argmax(low))
    return (t("q7.ask", low=f"{dist['temperatures'][0]:g}", high=f"{dist['temperatures'][-1]:g}"),
            t("q7.answer", course=course(t, dist["labels"][top]), low=f"{dist['temperatures'][0]:g}", high=f"{dist['temperatures'][-1]:g}",
              p_low=f"{100 * low[top]:.1f}%", p_high=f"{100 * high[top]:.1f}%"))


def temperature(d: dict, w):
    """Ming's vote for the first course at three risk-dial settings, and names he cooked at each."""
    dist = d["distribution"]
    labels = [course_label(lab, w) for lab in dist["labels"]]
    fig, axes = subplots(len(dist["temperatures"]), 1, figsize=(7.5, 4.6), sharex=True, sharey=True)
    for ax, t, probs, names, colour in zip(axes, dist["temperatures"], dist["probs"], dist["names"],
                                           (BLUE, ORANGE, GREEN)):
        ax.bar(range(len(labels)), probs, color=colour)
        ax.set_title(w("temperature.panel", t=f"{t:g}", names=", ".join(n or w("empty") for n in names)), fontsize=9,
                     loc="left")
        ax.set(ylabel=w("temperature.y"), yticks=[0, 0.5, 1])
        ax.tick_params(axis="x", bottom=False)  # the letters are written once, under the last panel
    axes[-1].set_xticks(range(len(labels)), labels, fontsize=7)
    fig.suptitle(w("temperature.title"), fontsize=9)
    rows = [["course"] + [f"t={t:g}" for t in dist["temperatures"]]]
    rows += [[lab] + [p[i] for p in dist["probs"]] for i, lab in enumerate(dist["labels"])]
    return fig, rows + [["cooked"] + [" ".join(names) for names in dist["names"]]]


FIGURES = [temperature]
