"""Ming's kitchen, measured: steps/s, graph nodes per step and per technique, and where the time goes.

    python benchmarks/scalar.py [--steps 30] [--repeats 3] [--reference path/to/microgpt.py]

Runs the first steps of the reference plan (seed 42, names.txt) with the scalar
engine, timing the forward pass (building the graph), backward and the Adam
update separately. With --reference, it also runs your copy of Karpathy's
microgpt.py for the same number of steps in a subprocess (patched only to stop
after those steps and report its time) and prints the ratio, measured in the
same run. Every figure is a median over the repeats.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from omakase import data  # noqa: E402
from omakase.adam import Adam  # noqa: E402
from omakase.autograd import LEAF, TECHNIQUES, count_techniques, no_cycle_collector  # noqa: E402
from omakase.config import GPTConfig, init_params  # noqa: E402
from omakase.engines.scalar import ScalarEngine  # noqa: E402
from omakase.tokenizer import Tokenizer  # noqa: E402


def reference_setup(docs: list[str]):
    rng = random.Random(42)
    docs = list(docs)
    rng.shuffle(docs)
    tok = Tokenizer.from_docs(docs)
    cfg = GPTConfig(tok.vocab_size)
    return docs, tok, ScalarEngine(cfg, init_params(cfg, rng))


def time_scalar(docs: list[str], steps: int) -> dict:
    docs, tok, engine = reference_setup(docs)
    adam, fwd, bwd, upd, nodes, tokens = Adam(), [], [], [], [], 0
    per_technique = {t: 0 for t in (*TECHNIQUES, LEAF)}
    for s in range(steps):
        batch = [tok.encode(docs[s])]
        tokens += min(engine.config.block_size, len(batch[0]) - 1)
        with no_cycle_collector():  # as engine.loss_and_grads runs them
            t0 = time.perf_counter()
            loss = engine.loss_graph(batch)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
        engine.update(adam, 0.01 * (1 - s / 1000), s + 1)
        t3 = time.perf_counter()
        fwd.append(t1 - t0), bwd.append(t2 - t1), upd.append(t3 - t2)
        counts = count_techniques(loss)
        nodes.append(sum(counts[t] for t in TECHNIQUES))
        for k in per_technique:
            per_technique[k] += counts[k]
    total = sum(fwd) + sum(bwd) + sum(upd)
    return {
        "s_per_step": total / steps,
        "tokens_per_s": tokens / total,
        "forward": sum(fwd) / total,
        "backward": sum(bwd) / total,
        "update": sum(upd) / total,
        "nodes_per_step": sum(nodes) / steps,
        "per_technique": {k: v / steps for k, v in per_technique.items()},
    }


def time_reference(script: Path, names: Path, steps: int) -> float:
    """Seconds per training step of the reference script, run as it is but for the step count."""
    source = script.read_text()
    if "num_steps = 1000" not in source or "temperature = 0.5" not in source:
        raise SystemExit(f"{script} does not look like microgpt.py (no 'num_steps = 1000' / 'temperature = 0.5')")
    source = source.replace("num_steps = 1000", f"num_steps = {steps}\nimport time as _t; _t0 = _t.perf_counter()", 1)
    source = source.replace("temperature = 0.5", "print('REFERENCE_SECONDS', _t.perf_counter() - _t0); raise SystemExit", 1)
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(names.resolve(), Path(tmp) / "input.txt")
        (Path(tmp) / "microgpt.py").write_text(source)
        out = subprocess.run([sys.executable, "microgpt.py"], cwd=tmp, capture_output=True, text=True, check=True)
    seconds = float(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("REFERENCE_SECONDS")))
    return seconds / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reference", type=Path, help="your copy of Karpathy's microgpt.py, to measure side by side")
    args = ap.parse_args()
    names = data.resolve(None)
    docs = data.read_docs(names)
    console = Console()
    runs, ref = [], []
    for r in range(args.repeats):
        console.print(f"repeat {r + 1}/{args.repeats}: scalar engine, {args.steps} steps", highlight=False)
        runs.append(time_scalar(docs, args.steps))
        if args.reference:
            console.print(f"repeat {r + 1}/{args.repeats}: reference, {args.steps} steps", highlight=False)
            ref.append(time_reference(args.reference, names, args.steps))
    med = {k: statistics.median(run[k] for run in runs) for k in runs[0] if k != "per_technique"}
    table = Table(title=f"Ming's kitchen: first {args.steps} reference steps, median of {args.repeats} repeats")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("seconds per step", f"{med['s_per_step']:.4f}")
    table.add_row("steps per second", f"{1 / med['s_per_step']:.1f}")
    table.add_row("tokens per second", f"{med['tokens_per_s']:.0f}")
    table.add_row("graph nodes per step (six techniques)", f"{med['nodes_per_step']:,.0f}")
    for k, v in runs[0]["per_technique"].items():
        table.add_row(f"  {k}" + (" (parameters and inputs, not a technique)" if k == LEAF else ""), f"{v:,.0f}")
    for part in ("forward", "backward", "update"):
        table.add_row(f"time share: {part}", f"{100 * med[part]:.1f}%")
    if ref:
        ref_s = statistics.median(ref)
        table.add_row("reference seconds per step", f"{ref_s:.4f}")
        table.add_row("speed-up over the reference (same run)", f"{ref_s / med['s_per_step']:.2f}x")
    console.print(table)


if __name__ == "__main__":
    main()
