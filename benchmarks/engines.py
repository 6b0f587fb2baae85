"""The engine ladder: scalar and numpy, steps/s and tokens/s, ratios measured in the same run.

    python benchmarks/engines.py [--repeats 5] [--steps 200] [--scalar-steps 20] [--reference microgpt.py]

The same table as `omakase bench`; the measuring code lives in omakase/bench.py.
With --reference (your copy of Karpathy's microgpt.py), the reference is timed
in the same run over the same number of steps as the scalar engine, and each
engine's per-step speed-up over it is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402

from omakase import data  # noqa: E402
from omakase.bench import ladder_table, run_ladder  # noqa: E402
from scalar import time_reference  # noqa: E402  (benchmarks/scalar.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200, help="numpy steps per rung")
    parser.add_argument("--scalar-steps", type=int, default=20, help="scalar steps (one document each)")
    parser.add_argument("--reference", type=Path, help="your copy of microgpt.py, timed side by side")
    args = parser.parse_args()
    console = Console()
    with console.status("timing the kitchens...") as status:
        rows = run_ladder(args.repeats, args.steps, args.scalar_steps,
                          progress=lambda d, t: status.update(f"timing {d}/{t}"))
    console.print(ladder_table(rows, args.repeats))
    if args.reference:
        names = data.resolve(None)
        with console.status("timing the reference..."):
            ref = statistics.median(time_reference(args.reference, names, args.scalar_steps)
                                    for _ in range(args.repeats))
        console.print(f"reference: {1000 * ref:.1f} ms per step (median of {args.repeats})")
        for row in rows:
            if row["batch"] == 1:
                console.print(f"  {row['engine']}: {ref * 1000 / row['ms_per_step']:,.0f}x faster per step")


if __name__ == "__main__":
    main()
