"""Chapter 10, the kitchen's internet and the base model: the pipeline's counts, pretraining, and what a base
model writes when it is asked a question (it continues a document)."""

from __future__ import annotations

from ..drawing import VERMILLION, subplots
from ..second_half import AssistantRun, rate, run_info, run_line, tag
from ..story import Catalogue, Figure, Para, Question, Table

REASONS = ("too short", "mostly symbols", "repeated lines", "one word repeated")  # the quality filter's rules
# Karpathy's numbers in "Deep Dive into LLMs like ChatGPT" (2025): FineWeb's size, GPT-2's largest released size
VIDEO = {"fineweb_tb": 44, "fineweb_tokens": 15e12, "gpt2_params": 1.5e9}


def measure(run: AssistantRun) -> dict:
    r = run.report
    base, corpus = r["base"], r["corpus"]
    losses = base["history"]["losses"]
    first = next((e for e in r.get("examples", []) if not e.get("document")), None)
    return {"run": run_info(run), "steps": corpus["steps"], "mixed": corpus["mixed"],
            "quality": corpus.get("quality_reasons", {}), "train_tokens": corpus["train_tokens"],
            "params": base["parameters"], "config": base["config"],
            "tokens": base["history"]["tokens"], "seconds": base["history"]["seconds"],
            "train_loss": sum(losses[-50:]) / len(losses[-50:]), "val_loss": base["history"]["val"][-1][1],
            "format_base": r["format"]["base"], "example": first, "video": VIDEO}


def tell(d: dict, t: Catalogue) -> list:
    steps = d["steps"]
    removed = steps[0]["documents"] - steps[-2]["documents"] - steps[-1]["documents"]
    rows = [[t(f"ch10.step.{s['step'].replace(' ', '_')}"), f"{s['documents']:,}", f"{s['tokens']:,}",
             f"{s['removed']:,}"] for s in steps]
    c, v = d["config"], d["video"]
    blocks = [
        Para(run_line(d["run"], t)),
        Para(t("ch10.internet" if d["mixed"].get("shakespeare") else "ch10.internet_restaurant",
               docs=f"{steps[0]['documents']:,}", restaurant=f"{d['mixed'].get('restaurant', 0):,}",
               shakespeare=f"{d['mixed'].get('shakespeare', 0):,}")),
        Table([t("col.step"), t("col.documents"), t("col.tokens"), t("col.removed")], rows),
        Para(t("ch10.removed", removed=f"{removed:,}", docs=f"{steps[0]['documents']:,}",
               share=f"{100 * removed / steps[0]['documents']:.1f}%")),
        Figure("pipeline", t("fig.pipeline.alt", removed=f"{removed:,}", docs=f"{steps[0]['documents']:,}")),
        Para(t("ch10.pretrain", params=f"{d['params']:,}", layers=c["n_layer"], width=c["n_embd"],
               context=c["block_size"], tokens=f"{d['tokens']:,}", minutes=f"{d['seconds'] / 60:.1f}",
               train=f"{d['train_loss']:.3f}", val=f"{d['val_loss']:.3f}")),
        Table(["", t("col.ours"), t("col.video")],
              [[t("ch10.row.data"), t("ch10.our_data", tokens=f"{d['train_tokens']:,}"),
                t("ch10.video_data", tb=v["fineweb_tb"], tokens=f"{v['fineweb_tokens'] / 1e12:.0f}")],
               [t("ch10.row.params"), f"{d['params']:,}", t("ch10.video_params")],
               [t("ch10.row.factor"), "—", f"{v['gpt2_params'] / d['params']:,.0f}×"]]),
        Question(*question(d, t)),
        Para(t("ch10.simulator", rate=rate(d["format_base"]), run=tag(d["run"], t))),
    ]
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    """A base model has only ever continued documents: the reader who followed pretraining can predict that
    a question is continued like one more line of a page, not answered."""
    ex = d["example"]
    prompt = ex["prompt"] if ex else "?"
    said = (ex["base"] if ex else "").replace("\n", " ⏎ ")[:160]
    return (t("q10.ask", prompt=prompt),
            t("q10.answer", said=said, rate=rate(d["format_base"]), run=tag(d["run"], t)))


def pipeline(d: dict, w):
    """What the pipeline removed, step by step (the quality filter by its reasons): a handful out of thousands."""
    steps = d["steps"]
    bars = [(w(f"pipeline.{s['step'].replace(' ', '_')}"), s["removed"]) for s in steps[1:-2]
            if s["step"] != "quality filter"]
    bars += [(w("pipeline.quality", reason=w("pipeline.reason." + reason.replace(" ", "_")) if reason in REASONS
                else reason), n) for reason, n in d["quality"].items()]
    removed = steps[0]["documents"] - steps[-2]["documents"] - steps[-1]["documents"]
    fig, ax = subplots(figsize=(6.5, 2.8))
    ax.barh([b[0] for b in bars], [b[1] for b in bars], color=VERMILLION)
    for i, (_, n) in enumerate(bars):
        ax.annotate(f"{n:,}", (n, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel=w("pipeline.x"), xlim=(0, max([b[1] for b in bars] + [1]) * 1.2),
           title=w("pipeline.title", removed=f"{removed:,}", docs=f"{steps[0]['documents']:,}",
                   train=f"{steps[-2]['documents']:,}", val=f"{steps[-1]['documents']:,}"))
    return fig, [["step", "documents", "tokens", "removed"]] + [[s["step"], s["documents"], s["tokens"], s["removed"]]
                                                              for s in steps] + [
        ["quality filter: " + reason, "", "", n] for reason, n in d["quality"].items()]


FIGURES = [pipeline]
