"""How long `omakase tour` takes, as a user sees it: a fresh process, training included or not.

    python benchmarks/tour.py [--repeats 3] [--engine numpy] [--lang en] [--part 1]

Each case is the median of --repeats runs of the whole command (figures and the
HTML page included), in a fresh temporary cache and figure folder per repeat (the
user's own cache is untouched):
  - a first tour on a new machine (no cached Ming, no figures: it trains and draws everything);
  - the same tour again (the cached Ming, the figures kept because their data did not change);
  - the tour in the other language (its figures go to their own folder; when no CJK font is
    installed they are the English ones, kept);
  - the first language again, after the switch: as fast as the second case, since the switch
    redrew nothing of this language's figures.
The goals: under 6 s for the first tour and under 1.5 s for the same tour again, on two cores.

Beside each wall-clock time, the CPU time of the whole run (the tour and its
drawing processes, user + system): on a machine shared with other work the wall
clock swings with the load, the CPU time much less; the load average is printed
at the start and the end.
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
    parser.add_argument("--lang", default="en", help="the first language; the switch goes to the other one")
    parser.add_argument("--part", default=None, help="tour only this half (1 or 2; default: the whole tour)")
    args = parser.parse_args()
    other = "zh" if args.lang == "en" else "en"
    common = (["--engine", args.engine] if args.engine else []) + (["--part", args.part] if args.part else [])
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    cases = {"cold": [], "warm": [], "other": [], "back": []}
    load = os.getloadavg()[0]
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:  # a new machine: no cached Ming, no figures yet
            cases["cold"].append(timed_tour(env, Path(tmp), ["--lang", args.lang, *common]))
            cases["warm"].append(timed_tour(env, Path(tmp), ["--lang", args.lang, *common]))  # the same tour again
            cases["other"].append(timed_tour(env, Path(tmp), ["--lang", other, *common]))
            cases["back"].append(timed_tour(env, Path(tmp), ["--lang", args.lang, *common]))
    print(f"omakase tour ({args.lang}, part {args.part or 'all'}, {os.cpu_count()} cores, median of {args.repeats}; "
          f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end):")
    labels = {"cold": ("first tour (trains Ming, draws every figure)", 6),
              "warm": ("the same tour again (cached Ming, figures kept)", 1.5),
              "other": (f"the tour in {other} (its own figure folder)", None),
              "back": (f"{args.lang} again after {other} (nothing redrawn)", 1.5)}
    for key, runs in cases.items():
        label, goal = labels[key]
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        print(f"  {label}: {statistics.median(walls):6.2f} s   " + (f"goal < {goal} s   " if goal else "")
              + f"runs: {', '.join(f'{t:.2f}' for t in walls)}   CPU: {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
