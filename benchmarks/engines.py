"""The engine ladder: scalar and numpy, steps/s and tokens/s, ratios measured in the same run.

    python benchmarks/engines.py [--repeats 5] [--steps 200] [--scalar-steps 20]

The same table as `omakase bench`; the measuring code lives in omakase/bench.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402

from omakase.bench import ladder_table, run_ladder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200, help="numpy steps per rung")
    parser.add_argument("--scalar-steps", type=int, default=20, help="scalar steps (one document each)")
    args = parser.parse_args()
    console = Console()
    with console.status("timing the kitchens...") as status:
        rows = run_ladder(args.repeats, args.steps, args.scalar_steps,
                          progress=lambda d, t: status.update(f"timing {d}/{t}"))
    console.print(ladder_table(rows, args.repeats))


if __name__ == "__main__":
    main()
