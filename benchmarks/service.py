"""The service hacks on bigger Ming (and Shakespeare, when given), through `omakase service all`:
the README's table and docs/service/ come from here.

    python benchmarks/service.py                      # trains bigger Ming if --bigger is not given
    python benchmarks/service.py --bigger runs/b.json --shakespeare runs/s.json --write-readme --write-docs
    python benchmarks/service.py --from-docs --write-readme   # the table again from docs/service/*/all.json
    python benchmarks/service.py --sweep-only --write-docs    # the size sweep alone (random weights, no training)

Each model's report is the command's own (tables, CSV, JSON, figures); this script only runs it,
copies the report and its figures into docs/service/<model>/ and condenses every hack to one line
computed from its measured rows.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP = (".md", ".csv", ".json", ".png")  # not the ONNX file, the draft or the reopened checkpoint
STEMS = ("bigger", "shakespeare")


def omakase(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "omakase", *args], check=True)


def report_of(checkpoint: str, out: Path, repeats: int) -> list[dict]:
    omakase("service", "all", "--checkpoint", checkpoint, "--out", str(out), "--force", "--repeats", str(repeats))
    return json.loads((out / "all.json").read_text())


def rows(m: dict) -> list[dict]:
    return [dict(zip(m["columns"], row)) for row in m["rows"]]


def headline(m: dict) -> str:
    """One line per hack, every number read from its rows."""
    r = rows(m)
    if m["hack"] == "memory":
        serve, train = r
        return (f"one batch added {train['added MiB at peak']} MiB to a training process, {serve['added MiB at peak']} "
                f"MiB to a serving one; parameter state {train['parameter-state bytes'] // serve['parameter-state bytes']}x")
    if m["hack"] == "kv":
        last = r[-1]
        same = all(x["same tokens"] for x in r)
        return (f"{last['speed-up']:.2f}x the tokens/s of recomputing the prefix at {last['tokens']} tokens "
                f"({r[0]['speed-up']:.2f}x at {r[0]['tokens']}); {'identical' if same else 'different'} tokens")
    if m["hack"] == "batch":
        last = r[-1]
        same = all(x["same tokens"] for x in r)
        return (f"batch {last['batch']}: {last['throughput x']:.1f}x the tokens/s of batch 1, each request "
                f"{last['latency ms'] / r[0]['latency ms']:.1f}x the latency; {'identical' if same else 'different'} "
                f"tokens")
    if m["hack"] == "quantize":
        return "; ".join(f"{x['variant']}: size {x['size x']:.2f}x, forward {x['forward x']:.2f}x, generation "
                         f"{x['generate x']:.2f}x, loss {x['loss change']:+.4f}" for x in r[1:])
    if m["hack"] == "prune":
        out = []
        for method in ("unstructured", "structured"):
            mine = [x for x in r if x["method"] == method]
            base, last = mine[0], mine[-1]
            free = max([x["sparsity"] for x in mine if x["held-out loss"] - base["held-out loss"] < 0.05])
            out.append(f"{method}: loss +<0.05 up to {free:.0%}; at {last['sparsity']:.0%} "
                       f"{last['held-out loss'] - base['held-out loss']:+.3f} ({last['after fine-tune'] - base['after fine-tune']:+.3f} "
                       f"after fine-tuning both), forward {last['speed x']:.2f}x")
        return "; ".join(out)
    if m["hack"] == "onnx":
        forward = [x for x in r if x["work"] == "forward"]
        generate = [x for x in r if x["work"] == "generate"]
        worst = max(x["max |logits diff|"] for x in forward)
        return (f"logits within {worst:.1e}; forward " + ", ".join(f"{x['onnxruntime / torch']:.2f}x at batch {x['batch']}"
                                                                for x in forward)
                + "".join(f"; generation {x['onnxruntime / torch']:.2f}x" for x in generate))
    if m["hack"] == "speculate":
        best = max(r, key=lambda x: x["speed-up"])
        return (f"best {best['speed-up']:.2f}x at k={best['k']} (acceptance {best['acceptance rate']:.2f}); "
                f"acceptance {r[0]['acceptance rate']:.2f} at k={r[0]['k']} to {r[-1]['acceptance rate']:.2f} at "
                f"k={r[-1]['k']}; " + ("identical to greedy decoding" if all(x["identical to greedy"] for x in r)
                                         else "NOT identical to greedy decoding"))
    if m["hack"] == "drafts":
        best = max(r, key=lambda x: x["measured speed-up"])
        return (f"best {best['draft']}: {best['measured speed-up']:.2f}x (predicted {best['predicted speed-up']:.2f}x, "
                f"cost ratio {best['cost ratio']:.2f}, acceptance {best['acceptance rate']:.2f}); "
                + ("identical to greedy decoding" if all(x["identical to greedy"] for x in r)
                   else "NOT identical to greedy decoding"))
    if m["hack"] == "sweep":
        return " ".join(m["notes"][:2])
    if m["hack"] == "drift":
        first, last = m["rows"][0], m["rows"][-1]
        return (f"new documents {first[2]:.3f} -> {last[2]:.3f} after {last[0]} steps; old ones {first[1]:.3f} -> "
                f"{last[1]:.3f} ({'forgetting' if last[1] > first[1] else 'no forgetting'})")
    return ""


def model_of(report: list[dict]) -> str:
    """The measured model, as its reports record it: layers, width, block, parameters."""
    config = next(m["setup"]["config"] for m in report if "config" in m["setup"])
    params = next(m["setup"]["parameters"] for m in report if "parameters" in m["setup"])
    return f"{config['n_layer']} layers, {config['n_embd']} wide, block {config['block_size']}, {params:,} parameters"


def table(reports: dict[str, list[dict]]) -> str:
    names = list(reports)
    lines = ["| hack | " + " | ".join(f"{n} ({model_of(reports[n])})" for n in names) + " |",
             "| --- |" + " --- |" * len(names)]
    hacks = [m["hack"] for m in next(iter(reports.values()))]
    for hack in hacks:
        cells = [headline(next(m for m in reports[n] if m["hack"] == hack)) for n in names]
        lines.append(f"| {hack} | " + " | ".join(cells) + " |")
    setup = next(iter(reports.values()))[0]["setup"]
    lines.append("")
    lines.append(f"Measured on {setup['cpu']} ({setup['cores']} cores, {setup['torch_threads']} PyTorch threads, "
                 f"PyTorch {setup['torch']}), float32, `python benchmarks/service.py`.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bigger", help="a bigger-Ming checkpoint (default: train one with --preset bigger)")
    ap.add_argument("--shakespeare", help="a shakespeare-char checkpoint (optional)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--write-docs", action="store_true", help="copy the reports into docs/service/")
    ap.add_argument("--from-docs", action="store_true", help="measure nothing: condense the reports in docs/service/")
    ap.add_argument("--sweep", action="store_true", help="also run `omakase service sweep` (a few minutes)")
    ap.add_argument("--sweep-only", action="store_true", help="run only the sweep (no model trained or served)")
    args = ap.parse_args()
    if args.sweep or args.sweep_only:
        sweep(args.repeats, args.write_docs)
        if args.sweep_only:
            return
    if args.from_docs:
        reports = {stem: json.loads((ROOT / "docs" / "service" / stem / "all.json").read_text())
                   for stem in STEMS if (ROOT / "docs" / "service" / stem).is_dir()}
        return publish(table(reports), args.write_readme)
    scratch = Path(tempfile.mkdtemp(prefix="omakase-service-"))
    bigger = args.bigger
    if bigger is None:
        bigger = str(scratch / "bigger.json")
        omakase("train", "--preset", "bigger", "--engine", "torch", "--dtype", "float32", "--out", bigger)
    checkpoints = {"bigger": bigger, "shakespeare": args.shakespeare}
    reports = {}
    for stem in STEMS:
        checkpoint = checkpoints[stem]
        if checkpoint is None:
            continue
        out = scratch / stem
        reports[stem] = report_of(checkpoint, out, args.repeats)
        if args.write_docs:
            target = ROOT / "docs" / "service" / stem
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for f in out.iterdir():
                if f.suffix in KEEP and f.name not in ("draft.json", "reopened.json"):
                    shutil.copy(f, target / f.name)
    publish(table(reports), args.write_readme)


def sweep(repeats: int, write_docs: bool) -> None:
    """The size sweep's own report; with write_docs copied into docs/service/sweep/."""
    out = Path(tempfile.mkdtemp(prefix="omakase-sweep-")) / "sweep"
    omakase("service", "sweep", "--out", str(out), "--repeats", str(repeats))
    [m] = json.loads((out / "all.json").read_text())
    print(headline(m))
    if write_docs:
        target = ROOT / "docs" / "service" / "sweep"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for f in out.iterdir():
            if f.suffix in KEEP:
                shutil.copy(f, target / f.name)


def publish(summary: str, write_readme: bool) -> None:
    print(summary)
    if write_readme:
        readme = ROOT / "README.md"
        text, n = re.subn(r"(<!-- service:begin -->\n).*?(\n<!-- service:end -->)", lambda m: m[1] + summary + m[2],
                          readme.read_text(), flags=re.S)
        if n != 1:
            raise SystemExit("README.md has no <!-- service:begin --> ... <!-- service:end --> markers")
        readme.write_text(text)


if __name__ == "__main__":
    main()
