"""How long a command takes to start: `omakase info` and `omakase cook`, each in a fresh process.

    python benchmarks/startup.py                      # this checkout
    python benchmarks/startup.py --other ../old-main  # and another checkout, in the same run, alternating

Each command runs `--repeats` times per checkout (alternating between checkouts, so machine load
falls on both alike); the table shows the median wall time and the ratio to the other checkout.
A small checkpoint is trained once, first, with this checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {"info": ["info"], "cook": ["cook", "--n", "1"]}


def timed(checkout: Path, argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout), "MPLBACKEND": "Agg"}
    started = time.perf_counter()
    # cwd too: `python -c` puts the working folder first on sys.path, ahead of PYTHONPATH
    subprocess.run([sys.executable, "-c", "from omakase.cli import run; run()", *argv], env=env, check=True,
                   cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, help="another checkout of omakase to time beside this one")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    checkouts = {"this": REPO} | ({"other": args.other.resolve()} if args.other else {})
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "m.json"
        subprocess.run([sys.executable, "-c", "from omakase.cli import run; run()", "train", "--steps", "5",
                        "--samples", "0", "--out", str(ckpt)], env={**os.environ, "PYTHONPATH": str(REPO)},
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        times = {(c, cmd): [] for c in checkouts for cmd in COMMANDS}
        for _ in range(args.repeats):
            for cmd, argv in COMMANDS.items():
                for name, path in checkouts.items():
                    times[name, cmd].append(timed(path, [*argv, "-c", str(ckpt)]))
    print(f"| command | {' | '.join(f'{c} (median of {args.repeats}, s)' for c in checkouts)} |"
          + (" this / other |" if args.other else ""))
    print("| --- |" + " ---: |" * (len(checkouts) + bool(args.other)))
    for cmd in COMMANDS:
        medians = [statistics.median(times[c, cmd]) for c in checkouts]
        ratio = f" {medians[0] / medians[1]:.2f} |" if args.other else ""
        print(f"| omakase {' '.join(COMMANDS[cmd])} | {' | '.join(f'{m:.3f}' for m in medians)} |{ratio}")


if __name__ == "__main__":
    main()
