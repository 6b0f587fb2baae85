"""How long `omakase tour` takes, as a user sees it: a fresh process, training included or not.

    python benchmarks/tour.py [--repeats 3] [--engine numpy] [--lang en]

Two cases, each the median of --repeats runs of the whole command (figures and
the HTML page included): the tour that trains Ming first (--retrain), and a
rerun that reuses the cached Ming. The goals: under 60 s and under 10 s on two
cores. The cache lives in a temporary folder, so the user's own is untouched.
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
    command = [sys.executable, "-c", "from omakase.cli import run; run()", "tour",
               "--out", str(folder / "figures"), "--html", str(folder / "tour.html"), "--force", *extra]
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", default=None, help="scalar or numpy (default: the tour's own choice)")
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    extra = ["--lang", args.lang] + (["--engine", args.engine] if args.engine else [])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(folder / "cache"), "PYTHONPATH": str(REPO),
               "COLUMNS": "120"}
        env.setdefault("OMAKASE_DATA_DIR", str(REPO.parent / "shared" / "data"))
        trained = [timed_tour(env, folder, extra + ["--retrain"]) for _ in range(args.repeats)]
        cached = [timed_tour(env, folder, extra) for _ in range(args.repeats)]
    print(f"omakase tour ({args.lang}, {os.cpu_count()} cores, median of {args.repeats}):")
    print(f"  training Ming first (--retrain): {statistics.median(trained):6.2f} s   goal < 60 s   "
          f"runs: {', '.join(f'{t:.2f}' for t in trained)}")
    print(f"  rerun with the cached Ming:      {statistics.median(cached):6.2f} s   goal < 10 s   "
          f"runs: {', '.join(f'{t:.2f}' for t in cached)}")


if __name__ == "__main__":
    main()
