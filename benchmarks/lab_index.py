"""Indexing throughput of `omakase lab index` (chunks/s) on this machine, per chunking strategy.

    python benchmarks/lab_index.py [FOLDER] [--repeats 3] [--threads N]

FOLDER defaults to the shipped code-search snippets laid out as files. Each run
indexes into a fresh temporary Chroma database (the model is loaded once,
outside the timing) and prints a table: chunks, seconds, chunks/s (median of
the repeats), plus torch's thread count, since throughput depends on it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--strategies", default="ABCDF")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)  # with another busy process on a core, 1 thread can be faster

    from omakase.lab import store
    from omakase.lab.chunking_eval import materialize_shipped
    from omakase.lab.embedders import MiniLM

    tmp = Path(tempfile.mkdtemp(prefix="lab-bench-"))
    folder = Path(args.folder) if args.folder else materialize_shipped(tmp / "shipped")[0]
    embedder = MiniLM()
    embedder.embed(["warm up"])
    table = Table(title=f"lab index on {folder} ({torch.get_num_threads()} torch threads, {args.repeats} repeats)")
    for h in ("strategy", "files", "chunks", "truncated", "median s", "chunks/s"):
        table.add_column(h, justify="right")
    for strategy in args.strategies:
        runs = []
        for r in range(args.repeats):
            stats = store.index_folder(folder, tmp / f"db-{strategy}-{r}", embedder, strategy)
            runs.append(stats)
        secs = statistics.median(s.seconds for s in runs)
        table.add_row(strategy, str(runs[0].files), str(runs[0].chunks_added), str(runs[0].truncated),
                      f"{secs:.2f}", f"{runs[0].chunks_added / secs:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
