"""Chapter 15, service: the laminated book and the restaurant's hacks (KV cache, batching, INT8, pruning, ONNX,
speculative decoding, drift), each as `omakase service` measured it, beside the analogy's claims."""

from __future__ import annotations

from ...config import GPTConfig, count_params
from ..drawing import BLUE, GREY, ORANGE, VERMILLION, log_labels, subplots
from ..second_half import AssistantRun, machine
from ..story import Catalogue, Figure, Para, Question, Table

# The kitchen analogy's claims, as it states them (speed-up factors; a range as (low, high))
CLAIMS = {"int8": (4.0, 4.0), "speculate": (2.0, 3.0)}


def table(hack: dict) -> list[dict]:
    """A hack's rows as dicts, by column name."""
    return [dict(zip(hack["columns"], row)) for row in hack["rows"]]


def measure(run: AssistantRun) -> dict:
    h = {name: run.hack(name) for name in ("memory", "kv", "batch", "quantize", "prune", "speculate", "onnx", "drift")}
    setup = (h["kv"] or {}).get("setup", {})
    d = {"machine": {"cpu": setup.get("cpu", "?"), "cores": setup.get("cores", "?"), "torch": setup.get("torch", "?")},
         "date": run.service_date, "claims": CLAIMS, "repeats": setup.get("repeats")}
    if h["memory"]:
        serve, train = table(h["memory"])
        d["memory"] = {"serve": serve["added MiB at peak"], "train": train["added MiB at peak"],
                       "params": h["memory"]["setup"].get("parameters")}
    if h["kv"]:
        rows = table(h["kv"])
        d["kv"] = {"first": rows[0], "last": rows[-1], "bound": setup.get("bound_tokens_s"),
                   "best_cached": max(r["cached tokens/s"] for r in rows), "weight_bytes": setup.get("weight_bytes")}
    if h["batch"]:
        rows = table(h["batch"])
        d["batch"] = {"first": rows[0], "last": rows[-1]}
    if h["quantize"]:
        rows = table(h["quantize"])
        int8 = [r for r in rows if r["variant"] != "float32"]
        d["int8"] = {"size": min(r["size x"] for r in int8), "forward": max(int8, key=lambda r: r["forward x"]),
                     "generate": max(int8, key=lambda r: r["generate x"])}
    if h["prune"]:
        rows = table(h["prune"])
        dense = next(r for r in rows if r["sparsity"] == 0)["held-out loss"]
        pruned = {m: [r for r in rows if r["method"] == m and r["sparsity"] > 0]
                  for m in ("structured", "unstructured")}
        if all(pruned.values()):
            fastest = max(pruned["structured"], key=lambda r: r["speed x"])
            d["prune"] = {"fastest": fastest, "loss_change": fastest["held-out loss"] - dense,
                          "unstructured": [min(r["speed x"] for r in pruned["unstructured"]),
                                           max(r["speed x"] for r in pruned["unstructured"])]}
    if h["speculate"]:
        rows, s = table(h["speculate"]), h["speculate"]["setup"]
        best, worst = max(rows, key=lambda r: r["speed-up"]), min(rows, key=lambda r: r["speed-up"])
        weights = count_params(GPTConfig(**s["draft"])) / count_params(GPTConfig(**s["target"]))
        d["speculate"] = {"best": best, "worst": worst, "call_ratio": s["draft call ms"] / s["target call ms"],
                          "weight_ratio": weights, "spread": max(r["timing spread"] for r in rows)}
    if h["onnx"]:
        rows = table(h["onnx"])
        d["onnx"] = {"forward1": next(r for r in rows if r["work"] == "forward" and r["batch"] == 1),
                     "generate": next(r for r in rows if r["work"] == "generate")}
    if h["drift"]:
        rows = table(h["drift"])
        d["drift"] = {"first": rows[0], "last": rows[-1], "steps": h["drift"]["setup"].get("steps")}
    if run.sweep:
        d["sweep"] = sweep(run.sweep)
    return d


def sweep(hack: dict) -> dict:
    """The size sweep's two ends: INT8 at the shortest context (where the weights are most of the work)
    for the smallest and the largest model, and the KV cache for the largest at the longest context."""
    rows = table(hack)
    shortest, longest = min(r["context"] for r in rows), max(r["context"] for r in rows)
    small = min((r for r in rows if r["context"] == shortest), key=lambda r: r["parameters"])
    big = max((r for r in rows if r["context"] == shortest), key=lambda r: r["parameters"])
    kv = max((r for r in rows if r["context"] == longest), key=lambda r: r["parameters"])
    return {"date": hack["date"], "small": small, "big": big, "kv": kv, "spread": max(r["spread"] for r in rows),
            # the sweep's own rule: a speed-up pays when it is above 1 by more than its row's spread
            "pays": big["INT8 x"] > 1 + big["spread"]}


def tell(d: dict, t: Catalogue) -> list:
    blocks = [Para(t("ch15.run", machine=machine(d["machine"], t), date=d["date"], params=f"{d['memory']['params']:,}",
                     repeats=d["repeats"])),
              Para(t("ch15.laminated", serve=f"{d['memory']['serve']:.2f}", train=f"{d['memory']['train']:.2f}",
                     ratio=f"{d['memory']['train'] / d['memory']['serve']:.1f}"))]
    kv, b, q, s, o = d.get("kv"), d.get("batch"), d.get("int8"), d.get("speculate"), d.get("onnx")
    rows = []
    if kv:
        rows.append([t("ch15.k.cream"), t("ch15.r.kv"), f"{kv['last']['speed-up']:.2f}×",
                     t("ch15.kv_detail", tokens=kv["last"]["tokens"], first=f"{kv['first']['speed-up']:.2f}")])
    if b:
        rows.append([t("ch15.k.tray"), t("ch15.r.batch"), f"{b['last']['throughput x']:.1f}×",
                     t("ch15.batch_detail", batch=b["last"]["batch"],
                       latency=f"{b['last']['latency ms'] / b['first']['latency ms']:.1f}")])
    if q:
        rows.append([t("ch15.k.packets"), t("ch15.r.int8"), f"{q['forward']['forward x']:.2f}×",
                     t("ch15.int8_detail", size=f"{q['size']:.2f}", generate=f"{q['generate']['generate x']:.2f}")])
    if d.get("prune"):
        pr = d["prune"]
        rows.append([t("ch15.k.pans"), t("ch15.r.prune"), f"{pr['fastest']['speed x']:.2f}×",
                     # single weights removed: "no speed-up" only when every speed is within ±10% of dense
                     t("ch15.prune_detail" if 0.9 <= pr["unstructured"][0] and pr["unstructured"][1] <= 1.1
                       else "ch15.prune_detail_range", share=f"{100 * pr['fastest']['weights removed']:.0f}%",
                       loss=f"{pr['loss_change']:+.3f}", low=f"{pr['unstructured'][0]:.2f}",
                       high=f"{pr['unstructured'][1]:.2f}")])
    if o:
        rows.append([t("ch15.k.stations"), t("ch15.r.onnx"), f"{o['forward1']['onnxruntime / torch']:.2f}×",
                     t("ch15.onnx_detail", generate=f"{o['generate']['onnxruntime / torch']:.2f}")])
    if s:
        rows.append([t("ch15.k.frosting"), t("ch15.r.speculate"), f"{s['best']['speed-up']:.2f}×",
                     t("ch15.speculate_detail", k=s["best"]["k"], worst=f"{s['worst']['speed-up']:.2f}")])
    blocks.append(Table([t("col.kitchen"), t("col.real"), t("col.speedup"), t("col.detail")], rows))
    if q and s:
        blocks.append(Figure("claims", t("fig.claims.alt", int8=f"{q['forward']['forward x']:.2f}",
                                         spec=f"{s['best']['speed-up']:.2f}")))
        blocks.append(Para(t("ch15.claims", int8=f"{q['forward']['forward x']:.2f}",
                             generate=f"{q['generate']['generate x']:.2f}", spec=f"{s['best']['speed-up']:.2f}",
                             spread=f"{100 * s['spread']:.0f}%")))
    if kv:
        blocks.append(Para(t("ch15.why", bytes=f"{kv['weight_bytes']:,}", bound=f"{kv['bound']:,}",
                             reached=f"{kv['best_cached']:,.0f}",
                             share=f"{100 * kv['best_cached'] / kv['bound']:.1f}%")))
    if s:
        blocks.append(Question(*question(d, t)))
    if d.get("drift"):
        dr = d["drift"]
        blocks.append(Para(t("ch15.drift", steps=dr["steps"], new0=f"{dr['first']['new held-out loss']:.3f}",
                             new1=f"{dr['last']['new held-out loss']:.3f}",
                             old0=f"{dr['first']['old held-out loss']:.3f}",
                             old1=f"{dr['last']['old held-out loss']:.3f}")))
    sw = d.get("sweep")
    if sw:
        blocks.append(Para(t.sentences(
            t("ch15.sweep", small=f"{sw['small']['parameters']:,}", big=f"{sw['big']['parameters']:,}", date=sw["date"],
              spread=f"{100 * sw['spread']:.0f}%", int8_small=f"{sw['small']['INT8 x']:.2f}",
              int8_big=f"{sw['big']['INT8 x']:.2f}", context=f"{sw['kv']['context']:,}", kv=f"{sw['kv']['KV x']:.1f}"),
            t("ch15.sweep.pays" if sw["pays"] else "ch15.sweep.never"))))
    else:
        blocks.append(Para(t("ch15.not_measured")))
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    """The chapter showed that at this size each call's fixed cost, not reading the weights, sets the pace:
    the reader can predict that a draft with a fiftieth of the weights still costs a large share of a call."""
    s = d["speculate"]
    return (t("q15.ask", weights=f"{100 * s['weight_ratio']:.1f}%"),
            t("q15.answer", weights=f"{100 * s['weight_ratio']:.1f}%", calls=f"{s['call_ratio']:.2f}",
              best=f"{s['best']['speed-up']:.2f}"))


def claims(d: dict, w):
    """The analogy's claimed speed-ups beside what was measured here, on a log scale with 1× (no change) marked."""
    q, s, kv, b, o = d["int8"], d["speculate"], d.get("kv"), d.get("batch"), d.get("onnx")
    bars = [(w("claims.int8_claim"), CLAIMS["int8"], VERMILLION, "claim"),
            (w("claims.int8_forward"), q["forward"]["forward x"], BLUE, "measured"),
            (w("claims.int8_generate"), q["generate"]["generate x"], BLUE, "measured"),
            (w("claims.spec_claim"), CLAIMS["speculate"], VERMILLION, "claim"),
            (w("claims.spec"), s["best"]["speed-up"], BLUE, "measured")]
    if kv:
        bars.append((w("claims.kv", tokens=kv["last"]["tokens"]), kv["last"]["speed-up"], ORANGE, "measured"))
    if b:
        bars.append((w("claims.batch", batch=b["last"]["batch"]), b["last"]["throughput x"], ORANGE, "measured"))
    if o:
        bars.append((w("claims.onnx"), o["forward1"]["onnxruntime / torch"], ORANGE, "measured"))
    fig, ax = subplots(figsize=(7, 3.6))
    rows = [["what", "kind", "low", "high"]]
    for i, (name, value, colour, kind) in enumerate(bars):
        low, high = value if isinstance(value, tuple) else (value, value)
        # each bar grows from 1× (no change): right is faster, left is slower
        ax.barh(i, high - 1, left=1, color=colour, hatch="//" if kind == "claim" else None,
                alpha=0.6 if kind == "claim" else 1)
        label = f"{low:g}–{high:g}×" if low != high else f"{high:.2f}×"
        ax.annotate(label, (max(high, 1), i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
        rows.append([name, kind, low, high])
    ax.axvline(1, color=GREY, linestyle="--", linewidth=0.8)
    ax.set_yticks(range(len(bars)), [x[0] for x in bars])
    ax.invert_yaxis()
    ax.set(xscale="log", xlim=(0.1, 100), xlabel=w("claims.x"), title=w("claims.title"))
    log_labels(ax.xaxis, powers=False)
    return fig, rows


FIGURES = [claims]
