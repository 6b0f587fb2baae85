"""Query latency of `omakase lab search` at about 10,000 chunks, and the time to a first answer.

    python benchmarks/lab_search.py [--db DIR] [--source FOLDER] [--chunks 10000] [--word-pieces 64]
                                    [--rounds 3] [--processes 3] [--threads N] [--build-only]

1. The index. If DIR (default: omakase-lab-search/db in the system's temporary folder) holds
   none yet, files of FOLDER (default: this Python's standard library, tests included) are taken
   in a seeded shuffle until their strategy-A chunks reach --chunks, copied beside the database
   (DIR.src) and indexed with MiniLM.
   MiniLM reads each chunk's first --word-pieces word pieces only (`omakase lab index` reads 256),
   to keep the build short: at 64 it took 17 minutes on a 2-core machine shared with a CI run.
   A query's latency depends on how many vectors there are and their dimension, not on how
   they were made. The next runs reuse the database.
2. In one process (one Searcher, as `--interactive` and several queries use it): the one-off
   costs (opening, loading the model, building the BM25 index), then each of 20 queries --rounds
   times per method: p50 and p95 in milliseconds.
3. Time to first answer: `python -m omakase lab search QUERY` run as a new process, --processes
   times per method (median wall time).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

QUERIES = [
    "parse a date string", "read the members of a zip archive", "hash a file in chunks", "send an email over SMTP",
    "percent-encode a URL", "split a path into its parts", "compress bytes with gzip", "encode a dict as JSON",
    "pool of worker threads", "remove a temporary directory", "decode base64", "walk a directory tree",
    "format a traceback", "random sample without replacement", "quote fields when writing CSV",
    "parse HTTP request headers", "lock shared between threads", "copy a file with its metadata",
    "round a decimal half even", "rotate the log file when it gets big",
]


def build(db: Path, source: Path, target: int, word_pieces: int, seed: int = 0) -> None:
    from omakase.lab import store
    from omakase.lab.chunkers import chunk_source, code_files, decode_source
    from omakase.lab.embedders import MiniLM

    files = code_files(source)
    random.Random(seed).shuffle(files)
    src, total = Path(f"{db}.src"), 0
    for path in files:
        if total >= target:
            break
        rel = path.relative_to(source).as_posix()
        try:
            total += len(chunk_source(decode_source(path.read_bytes(), rel), rel, "A", on_parse_error=lambda _: None))
        except Exception:  # not text: index_folder would skip it too
            continue
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, src / rel)
    embedder = MiniLM()
    embedder.model.max_seq_length = word_pieces
    t0 = time.perf_counter()
    stats = store.index_folder(src, db, embedder, "A")
    print(f"built {db}: {stats.files} files, {stats.chunks_total} chunks, MiniLM over the first {word_pieces} "
          f"word pieces, {time.perf_counter() - t0:.0f} s")


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def in_process(db: Path, rounds: int) -> tuple[list[tuple[str, float]], dict[str, list[float]]]:
    from omakase.lab.embedders import MiniLM
    from omakase.lab.search import Filters, Searcher

    once = []
    ms, searcher = timed(lambda: Searcher(db, MiniLM))
    once.append(("open the database", ms))
    once.append(("first dense query (loads MiniLM)", timed(lambda: searcher.search("warm up", 10, "dense"))[0]))
    once.append(("first bm25 query (reads the texts, builds BM25)",
                 timed(lambda: searcher.search("warm up", 10, "bm25"))[0]))
    filters = Filters(langs=("python",), no_tests=True)
    once.append(("first filtered query (reads the paths)",
                 timed(lambda: searcher.search("warm up", 10, "dense", filters))[0]))
    runs = {"dense": ("dense", Filters()), "bm25": ("bm25", Filters()), "hybrid": ("hybrid", Filters()),
            "dense --lang python --no-tests": ("dense", filters)}
    latency: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for q in QUERIES:
            for name, (method, f) in runs.items():
                latency[name].append(timed(lambda: searcher.search(q, 10, method, f))[0])
    once.append(("chunks", searcher.size))
    return once, latency


def first_answer(db: Path, method: str, processes: int) -> float:
    cmd = [sys.executable, "-m", "omakase", "lab", "search", QUERIES[0], "--db", str(db), "--method", method, "--k", "10"]
    walls = []
    for _ in range(processes):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "omakase-lab-search" / "db")
    ap.add_argument("--source", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--word-pieces", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--build-only", action="store_true", help="Build the index if missing, measure nothing.")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if not (args.db / "chroma.sqlite3").is_file():
        build(args.db, args.source, args.chunks, args.word_pieces)
    if args.build_only:
        return
    once, latency = in_process(args.db, args.rounds)
    console = Console()
    table = Table(title=f"one process, {len(QUERIES)} queries x {args.rounds} rounds, k = 10 "
                        f"({torch.get_num_threads()} torch threads)")
    for h in ("method", "queries", "p50 ms", "p95 ms", "max ms"):
        table.add_column(h, justify="right")
    for name, ms in latency.items():
        table.add_row(name, str(len(ms)), f"{pct(ms, 50):.1f}", f"{pct(ms, 95):.1f}", f"{max(ms):.1f}")
    console.print(table)
    for what, value in once:
        console.print(f"{what}: {value:.0f}" + ("" if what == "chunks" else " ms"))
    if args.processes:
        for method in ("dense", "bm25"):
            console.print(f"first answer of a new `omakase lab search --method {method}` process: "
                          f"{first_answer(args.db, method, args.processes):.1f} s (median of {args.processes})")


if __name__ == "__main__":
    main()
