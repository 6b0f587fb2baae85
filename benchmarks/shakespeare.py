"""Ming on Shakespeare beside nanoGPT: the same settings, the same machine, the same run.

    python benchmarks/shakespeare.py                         # omakase's shakespeare-char preset alone
    python benchmarks/shakespeare.py --nanogpt ~/src/nanoGPT # and nanoGPT's README command for CPUs

Both train a 4-layer, 128-wide, 4-head character model with a 64-character context on
tinyshakespeare: batch 12, 2,000 iterations, lr 1e-3 with 100 warmup steps and cosine decay to
1e-4, AdamW betas (0.9, 0.99), weight decay 0.1, clipping 1.0, no dropout. The table gives the
wall time of the whole command, tokens per second over that time (iterations x batch x context),
the peak memory of the process, and the validation loss each reports: omakase's is measured on
every held-out block (the last 10% of the text); nanoGPT's is its own estimate at the last step
(20 random batches of its last 10%). nanoGPT is only run, never copied: pass the path of a
checkout of it (not part of this project). The text comes from omakase's data resolution
(OMAKASE_DATA_DIR, the cache, or a download).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omakase import data
from omakase.config import PRESETS

PRESET = PRESETS["shakespeare-char"]
TOKENS_PER_STEP = PRESET["batch_size"] * PRESET["block_size"]
# Report the peak resident memory of the command run below it (Linux reports kilobytes).
PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
        "print('peak-kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """(seconds, peak GiB, stdout) of a command run in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *command], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(command[:4])} ... failed:\n{done.stderr[-2000:]}")
    peak_kb = int(re.findall(r"peak-kb (\d+)", done.stderr)[-1])
    return seconds, peak_kb / 2**20, done.stdout


def run_omakase(steps: int, work: Path) -> dict:
    ckpt = work / "shakespeare.json"
    train = [sys.executable, "-m", "omakase", "train", "--preset", "shakespeare-char", "--steps", str(steps),
             "--out", str(ckpt), "--samples", "0", "--eval-every", "0", "--val-docs", "1"]
    seconds, peak, _ = timed(train, work)
    _, _, out = timed([sys.executable, "-m", "omakase", "eval", "-c", str(ckpt), "--json"], work)
    return {"who": "omakase (torch engine, float32)", "seconds": seconds, "tokens_per_s": steps * TOKENS_PER_STEP / seconds,
            "peak_gib": peak, "val_loss": json.loads(out)["loss"], "val_on": "all held-out blocks"}


def run_nanogpt(path: Path, steps: int, work: Path) -> dict:
    folder = path / "data" / "shakespeare_char"
    if not (folder / "input.txt").exists():  # prepare.py would download it: give it ours (the same sha256)
        shutil.copy(data.resolve("shakespeare"), folder / "input.txt")
    subprocess.run([sys.executable, "prepare.py"], cwd=folder, check=True, capture_output=True)
    command = [sys.executable, "train.py", "config/train_shakespeare_char.py", "--device=cpu", "--compile=False",
               "--eval_iters=20", "--log_interval=1", "--block_size=64", "--batch_size=12", "--n_layer=4",
               "--n_head=4", "--n_embd=128", f"--max_iters={steps}", f"--lr_decay_iters={steps}", "--dropout=0.0",
               f"--out_dir={work / 'nanogpt-out'}"]
    seconds, peak, out = timed(command, path)
    val = float(re.findall(r"val loss ([0-9.]+)", out)[-1])
    return {"who": "nanoGPT (README's CPU command)", "seconds": seconds, "tokens_per_s": steps * TOKENS_PER_STEP / seconds,
            "peak_gib": peak, "val_loss": val, "val_on": "its estimate: 20 random batches"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nanogpt", type=Path, help="a checkout of nanoGPT to run beside omakase")
    parser.add_argument("--steps", type=int, default=PRESET["steps"])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_omakase(args.steps, Path(tmp))]
        if args.nanogpt:
            rows.append(run_nanogpt(args.nanogpt.resolve(), args.steps, Path(tmp)))
    print(f"| {args.steps:,} iterations | wall time | tokens/s | peak memory | validation loss |")
    print("| --- | ---: | ---: | ---: | --- |")
    for r in rows:
        print(f"| {r['who']} | {r['seconds']:.0f} s | {r['tokens_per_s']:,.0f} | {r['peak_gib']:.2f} GiB | "
              f"{r['val_loss']:.4f} ({r['val_on']}) |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
