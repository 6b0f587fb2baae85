"""How long `omakase tour` takes, as a user sees it: a fresh process, training included or not.

    python benchmarks/tour.py [--repeats 3] [--engine numpy] [--lang en]

Two cases, each the median of --repeats runs of the whole command (figures and
the HTML page included): a first tour on a new machine (no cached Ming, an empty
figure folder: it trains and draws everything), and the same tour again (the
cached Ming, the figures kept because their data did not change). The goals:
under 10 s and under 3 s on two cores. Every case gets its own temporary cache,
so the user's own is untouched.

Beside each wall-clock time, the CPU time of the whole run (the tour and its
drawing processes, user + system): on a machine shared with other work the wall
clock swings with the load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every finished child, and the children it waited for
    return usage.ru_utime + usage.ru_stime


def timed_tour(env: dict, folder: Path, extra: list[str]) -> tuple[float, float]:
    """The wall-clock and CPU seconds of one tour."""
    command = [sys.executable, "-c", "from omakase.cli import run; run()", "tour", "--no-questions",
               "--out", str(folder / "figures"), "--html", str(folder / "tour.html"), "--force", *extra]
    started, cpu = time.perf_counter(), cpu_of_children()
    subprocess.run(command, env={**env, "XDG_CACHE_HOME": str(folder / "cache")}, cwd=folder, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, cpu_of_children() - cpu


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
    print(f"omakase tour ({args.lang}, {os.cpu_count()} cores, median of {args.repeats}; load average "
          f"{os.getloadavg()[0]:.1f} at the end):")
    for label, runs, goal in (("first tour (trains Ming, draws every figure)", cold, 10),
                              ("the same tour again (cached Ming, figures kept)", warm, 3)):
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        print(f"  {label}: {statistics.median(walls):6.2f} s   goal < {goal} s   "
              f"runs: {', '.join(f'{t:.2f}' for t in walls)}   CPU: {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
