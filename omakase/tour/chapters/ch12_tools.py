"""Chapter 12, tools and working memory: the calculator and the search (the kitchen's scales and recipe
file), and a fact card on the counter against what the weights remember."""

from __future__ import annotations

from ..drawing import BLUE, ORANGE, subplots
from ..second_half import AssistantRun, overlap, rate, run_info, run_line, share, tag
from ..story import Catalogue, Figure, Para, Question, Table


def measure(run: AssistantRun) -> dict:
    r = run.report
    # working memory is told from the model taught to read cards, when the build made one
    memory_model = "sft-cards" if "sft-cards" in r.get("memory", {}) else "sft"
    tools, memory = r.get("tools", {}), r.get("memory", {}).get(memory_model, {})
    bills = tools.get("bills", {})
    cards = memory.get("cards", {})
    # each pair: the same held-out questions without and with the help
    pairs = []
    if bills:
        pairs.append({"what": "bills", "without": bills["sft"], "with": bills["sft-tools"]})
    if "sft-tools (search)" in r.get("knowledge", {}):
        pairs.append({"what": "search", "without": r["knowledge"]["sft"]["all"],
                      "with": r["knowledge"]["sft-tools (search)"]["all"]})
    if cards:
        pairs.append({"what": "card", "without": cards["without"]["all"], "with": cards["with"]["all"]})
    return {"run": run_info(run), "pairs": pairs, "called": bills.get("called"), "searched": tools.get("searched"),
            "example": bills.get("example"), "p_card": cards.get("gain", {}).get("p_value"),
            "memory_model": memory_model,
            "conflicts": memory.get("conflicts"), "reading": memory.get("reading", {}).get("all"),
            "in_context": memory.get("in_context", {}).get("by_k", {}), "params": r["base"]["parameters"],
            "siblings": r.get("midtrain", {}).get("counts", {}).get("codes", 0),
            "seconds": r.get("seconds", 0.0)}


def tell(d: dict, t: Catalogue) -> list:
    run = tag(d["run"], t)
    blocks = [Para(run_line(d["run"], t)), Para(t("ch12.tools"))]
    if d["called"] and d["searched"]:
        blocks.append(Para(t("ch12.called", called=rate(d["called"]), searched=rate(d["searched"]), run=run)))
    blocks.append(Table([t("col.measure"), t("col.without"), t("col.with")],
                        [[t(f"ch12.pair.{p['what']}"), rate(p["without"]), rate(p["with"])] for p in d["pairs"]]))
    apart = [p for p in d["pairs"] if not overlap(p["without"], p["with"])]
    called = d["called"] and d["called"]["low"] > 0.5  # the calls are made, most of the time
    blocks.append(Para(t.sentences(t("ch12.none_apart", run=run), t("ch12.called_not_read") if called else "")
                       if not apart else
                       t("ch12.some_apart", which=t.join(t(f"ch12.pair.{p['what']}") for p in apart))))
    caption = "fig.with_and_without.alt" if not apart else "fig.with_and_without.apart"
    blocks.append(Figure("with_and_without", t(caption, n=len(d["pairs"]), apart=len(apart))))
    if d["example"]:
        blocks.append(Question(*question(d, t)))
    if d["conflicts"]:
        c = d["conflicts"]
        blocks.append(Para(t("ch12.memory", card=card_sentence(d, t), prompt=rate(c["prompt"]),
                             weights=rate(c["weights"]), reading=rate(d["reading"]),
                             model=t(f"ch12.model.{'cards' if d['memory_model'] == 'sft-cards' else 'sft'}"), run=run)))
    if d["in_context"]:
        blocks.append(Para(t.sentences(
            t("ch12.in_context", rates=t.join(f"k = {k}: {rate(v)}" for k, v in d["in_context"].items()), run=run),
            t("ch12.in_context.siblings") if d["siblings"] else "", in_context_verdict(d["in_context"], t))))
    if not apart:  # why the help did not show
        blocks.append(Para(t("ch12.why", params=f"{d['params']:,}", minutes=f"{d['seconds'] / 60:.0f}")))
    blocks += [Table([t("col.kitchen"), t("col.real")],
                     [[t("ch12.k.scales"), t("ch12.r.calculator")], [t("ch12.k.file"), t("ch12.r.search")],
                      [t("ch12.k.counter"), t("ch12.r.context")], [t("ch12.k.memory"), t("ch12.r.weights")]])]
    return blocks


def in_context_verdict(by_k: dict, t) -> str:
    """Whether the worked examples made a difference this run can see: the fewest and the most examples' intervals."""
    ks = sorted(by_k, key=int)
    first, last = by_k[ks[0]], by_k[ks[-1]]
    if ks[0] == ks[-1] or overlap(first, last):
        return t("ch12.in_context.same")
    return t("ch12.in_context.rises" if last["share"] > first["share"] else "ch12.in_context.falls",
             first=rate(first), last=rate(last), k0=ks[0], k=ks[-1])


def card_sentence(d: dict, t) -> str:
    """Whether a pasted card changed the answers, by the paired test on the same questions (p < 0.05)."""
    card = next((p for p in d["pairs"] if p["what"] == "card"), None)
    if card is None or d["p_card"] is None:
        return ""
    differs = d["p_card"] < 0.05
    key = "ch12.card.same" if not differs else \
        "ch12.card.helps" if card["with"]["share"] > card["without"]["share"] else "ch12.card.lowers"
    return t(key, without_card=rate(card["without"]), with_card=rate(card["with"]), p=f"{d['p_card']:.3f}")


def question(d: dict, t) -> tuple[str, str]:
    """The model writes the call; the orchestrator writes the result; then the model must read it. The
    reader who saw the calls learned as a format (called on every bill, right on none) can predict the reply."""
    ex = d["example"]
    said = ex["sft-tools"]
    reply = said.rsplit("<|/result|>", 1)[-1].strip() or t("p2.nothing")
    if "<|calc|>" not in said or "<|result|>" not in said:  # no call this time: the question is whether it calls
        return (t("q12.ask_call", question=ex["question"]),
                t("q12.answer_no_call", reply=reply, called=rate(d["called"]), bills=rate(d["pairs"][0]["with"]),
                  run=tag(d["run"], t)))
    calc = said.split("<|calc|>")[1].split("<|/calc|>")[0]
    result = said.split("<|result|>")[1].split("<|/result|>")[0]
    right = reply.replace(",", "").count(result) > 0  # the reply carries the calculator's number
    return (t("q12.ask", question=ex["question"], calc=calc, result=result),
            t("q12.answer_read" if right else "q12.answer", reply=reply, result=result,
              bills=rate(d["pairs"][0]["with"]), run=tag(d["run"], t)))


def with_and_without(d: dict, w):
    """Each pair of rates, without and with the help, with 95% intervals."""
    fig, ax = subplots(figsize=(6, 3.2))
    rows = [["question", "help", "share", "low", "high", "n"]]
    for i, p in enumerate(d["pairs"]):
        for offset, side, colour in ((-0.15, "without", BLUE), (0.15, "with", ORANGE)):
            r = p[side]
            ax.bar(i + offset, 100 * r["share"], width=0.3, color=colour, label=w(f"help.{side}") if i == 0 else None,
                   yerr=[[100 * (r["share"] - r["low"])], [100 * (r["high"] - r["share"])]], capsize=3)
            ax.annotate(share(r["share"]), (i + offset, 100 * r["high"]), xytext=(0, 2), textcoords="offset points",
                        ha="center", fontsize=7)
            rows.append([p["what"], side, r["share"], r["low"], r["high"], r["n"]])
    ax.set_xticks(range(len(d["pairs"])), [w(f"help.{p['what']}") for p in d["pairs"]])
    ax.set(ylabel=w("help.y"), ylim=(0, 100), title=w("help.title"))
    ax.legend(frameon=False, fontsize=8)
    return fig, rows


FIGURES = [with_and_without]
