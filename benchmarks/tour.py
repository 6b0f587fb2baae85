"""How long `omakase tour` takes, as a user sees it: a fresh process, training included or not.

    python benchmarks/tour.py [--repeats 3] [--engine numpy] [--lang en]

Two cases, each the median of --repeats runs of the whole command (figures and
the HTML page included): a first tour on a new machine (no cached Ming, an empty
figure folder: it trains and draws everything), and the same tour again (the
cached Ming, the figures kept because their data did not change). The goals:
under 10 s and under 3 s on two cores. Every case gets its own temporary cache,
so the user's own is untouched.
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


def timed_tour(env: dict, folder: Path, extra: list[str]) -> float:
    command = [sys.executable, "-c", "from omakase.cli import run; run()", "tour", "--no-questions",
               "--out", str(folder / "figures"), "--html", str(folder / "tour.html"), "--force", *extra]
    started = time.perf_counter()
    subprocess.run(command, env={**env, "XDG_CACHE_HOME": str(folder / "cache")}, cwd=folder, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", default=None, help="scalar or numpy (default: the tour's own choice)")
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    extra = ["--lang", args.lang] + (["--engine", args.engine] if args.engine else [])
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:  # a new machine: no cached Ming, no figures yet
            cold.append(timed_tour(env, Path(tmp), extra))
            warm.append(timed_tour(env, Path(tmp), extra))  # the same tour again
    print(f"omakase tour ({args.lang}, {os.cpu_count()} cores, median of {args.repeats}):")
    print(f"  first tour (trains Ming, draws every figure): {statistics.median(cold):6.2f} s   goal < 10 s   "
          f"runs: {', '.join(f'{t:.2f}' for t in cold)}")
    print(f"  the same tour again (cached Ming, figures kept): {statistics.median(warm):6.2f} s   goal < 3 s   "
          f"runs: {', '.join(f'{t:.2f}' for t in warm)}")


if __name__ == "__main__":
    main()
