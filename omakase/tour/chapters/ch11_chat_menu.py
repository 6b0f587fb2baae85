"""Chapter 11, the chat menu: supervised fine-tuning (SFT) on the labelers' conversations; identity as
imitation; knowledge by how often a fact was read; hallucination and "I don't know"."""

from __future__ import annotations

from ..drawing import BLUE, GREY, ORANGE, subplots
from ..second_half import AssistantRun, overlap, rate, run_info, run_line, share, tag
from ..story import Catalogue, Figure, Para, Question, Table

SEEN = ("1", "3", "10", "30")  # the buckets a fact was written for: read about once, 3, 10 and 30 times


def measure(run: AssistantRun) -> dict:
    r = run.report
    identity = r.get("identity", {})
    names = [n for n in identity if n != "anonymous"]
    return {"run": run_info(run), "format": r["format"], "harmful": r["harmful"], "counts": r["sft"]["counts"],
            "examples": [e for e in r.get("examples", []) if not e.get("document")], "identity": identity,
            "names": names,
            "knowledge": {m: r["knowledge"][m]["by_seen"] for m in ("sft", "sft-idk") if m in r.get("knowledge", {})},
            "hallucination": r.get("hallucination", {}), "idk_known": r["knowledge"].get("sft-idk", {}).get("all"),
            "known": r["knowledge"]["sft"]["all"], "probed": r.get("idk", {}).get("probed"),
            "wrong": r.get("idk", {}).get("wrong")}


def tell(d: dict, t: Catalogue) -> list:
    run = tag(d["run"], t)
    k = d["knowledge"]["sft"]
    blocks = [
        Para(run_line(d["run"], t)),
        Para(t("ch11.menu", counts=t.join(f"{n:,} {t('ch11.kind.' + kind)}" for kind, n in d["counts"].items()))),
        Table([t("col.measure"), t("col.base"), t("col.sft")],
              [[t("ch11.format"), rate(d["format"]["base"]), rate(d["format"]["sft"])],
               [t("ch11.harmful"), rate(d["harmful"]["base"]), rate(d["harmful"]["sft"])]]),
        Para(t("ch11.format_said" if not overlap(d["format"]["base"], d["format"]["sft"]) else "ch11.format_same",
               base=rate(d["format"]["base"]), sft=rate(d["format"]["sft"]),
               refusals=rate(d["harmful"]["sft"]), run=run)),
    ]
    if d["examples"]:  # the same prompts to the base model and to the fine-tuned one
        blocks += [Para(t("ch11.side_by_side")),
                   Table([t("col.prompt"), t("col.base"), t("col.sft")],
                         [[e["prompt"], clip(e["base"]), clip(e["sft"])] for e in d["examples"]])]
    blocks.append(Question(*question(d, t)))
    if any(b in k for b in SEEN):
        low, high = read_least_and_most(k)
        blocks += [Para(t("ch11.knowledge", low=rate(low), high=rate(high), run=run,
                          apart=t("ch11.apart") if not overlap(low, high) else t("ch11.not_apart"))),
                   Figure("knowledge", t("fig.knowledge.alt", low=share(low["share"]), high=share(high["share"])))]
    h = d["hallucination"]
    if "sft" in h and "sft-idk" in h:
        blocks.append(Para(t("ch11.hallucination", invented=rate(h["sft"]["invented"]),
                             probed=d["probed"], wrong=d["wrong"], refused=rate(h["sft-idk"]["refused"]),
                             known=rate(d["known"]), idk_known=rate(d["idk_known"]), run=run)))
    blocks.append(Table([t("col.kitchen"), t("col.real")],
                        [[t("ch11.k.menu"), t("ch11.r.sft")], [t("ch11.k.labelers"), t("ch11.r.labelers")],
                         [t("ch11.k.bells"), t("ch11.r.chat_tokens")],
                         [t("ch11.k.invent"), t("ch11.r.hallucination")]]))
    return blocks


def read_least_and_most(k: dict) -> tuple[dict, dict]:
    """The rates of the facts read least often and most often (by_seen's lowest and highest bucket of SEEN)."""
    seen = [b for b in SEEN if b in k]
    return k[seen[0]], k[seen[-1]]


def summary_key(d: dict) -> str:
    """The chapter's one line says knowledge comes from reading only when this run shows it: the facts read most
    often answered right more often than those read least, intervals apart."""
    k = d["knowledge"]["sft"]
    if not any(b in k for b in SEEN):
        return "ch11.summary_unshown"
    low, high = read_least_and_most(k)
    shown = high["share"] > low["share"] and not overlap(low, high)
    return "ch11.summary" if shown else "ch11.summary_unshown"


def clip(text: str, width: int = 120) -> str:
    """A reply as a table shows it: line breaks visible, cut at `width` characters."""
    text = text.strip().replace("\n", " ⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def question(d: dict, t) -> tuple[str, str]:
    """Identity is imitation: the reader who saw that SFT copies the labelers' conversations can predict that
    the same base model fine-tuned under another name answers with that name."""
    ident = d["identity"]
    if len(d["names"]) < 2:
        return t("q11.ask", first="Ming", other="Hana"), t("q11.no_answer")
    first, other = d["names"][:2]
    return (t("q11.ask", first=first, other=other),
            t("q11.answer", first=first, other=other, says_first=rate(ident[other][first]),
              says_other=rate(ident[other][other]), example=ident[other].get("example", ""),
              anonymous=rate(ident.get("anonymous", {}).get(first)), run=tag(d["run"], t)))


def knowledge(d: dict, w):
    """Accuracy on held-out questions by how often the fact was read in training, with 95% intervals."""
    fig, ax = subplots(figsize=(6, 3.2))
    rows = [["model", "seen", "share", "low", "high", "n"]]
    for offset, (model, colour) in zip((-0.1, 0.1), (("sft", BLUE), ("sft-idk", ORANGE))):
        by = d["knowledge"].get(model, {})
        xs = [i + offset for i, b in enumerate(SEEN) if b in by]
        ys = [100 * by[b]["share"] for b in SEEN if b in by]
        err = [[100 * (by[b]["share"] - by[b]["low"]) for b in SEEN if b in by],
               [100 * (by[b]["high"] - by[b]["share"]) for b in SEEN if b in by]]
        ax.errorbar(xs, ys, yerr=err, fmt="o-", color=colour, capsize=3, label=w(f"knowledge.{model}"))
        rows += [[model, b, by[b]["share"], by[b]["low"], by[b]["high"], by[b]["n"]] for b in SEEN if b in by]
    ax.set_xticks(range(len(SEEN)), [w("knowledge.seen", times=b) for b in SEEN])
    ax.set(ylabel=w("knowledge.y"), ylim=(0, None), title=w("knowledge.title"))
    ax.axhline(0, color=GREY, linewidth=0.5)
    ax.legend(frameon=False, fontsize=8)
    return fig, rows


FIGURES = [knowledge]
