"""Query latency of `omakase lab search`: in one process, through the resident server, and as a new command.

    python benchmarks/lab_search.py [--db DIR] [--source FOLDER] [--chunks 10000] [--word-pieces 64]
                                    [--rounds 3] [--processes 20] [--threads N] [--build-only] [--no-server]

1. The index. If DIR (default: omakase-lab-search/db in the system's temporary folder) holds
   none yet, files of FOLDER (default: this Python's standard library, tests included) are taken
   in a seeded shuffle until their strategy-A chunks reach --chunks, copied beside the database
   (DIR.src) and indexed with MiniLM.
   MiniLM reads each chunk's first --word-pieces word pieces only (`omakase lab index` reads 256),
   to keep the build short: at 64 it took 17 minutes on a 2-core machine shared with a CI run.
   A query's latency depends on how many vectors there are and their dimension, not on how
   they were made. The next runs reuse the database; any index `omakase lab index` built works.
2. In one process (one Searcher, as `--interactive` and several queries use it): the one-off
   costs (opening, loading the model, building the BM25 index), then each of 20 queries --rounds
   times per method: p50 and p95 in milliseconds; and the dense p50 again with torch's default
   threads, against the one thread `lab search` now uses to embed a query.
3. The resident server (`omakase lab serve`, started here on a free port): each of the 20
   queries asked once over HTTP, p50 and p95; then `omakase lab search QUERY --server URL` as a
   new process, --processes times (median wall time).
4. A one-shot `omakase lab search QUERY` (a new process that loads the model), --processes
   times per method (median wall time).

The load on the machine (`uptime`) is printed before and after: a shared machine's timings move.
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
    from omakase.lab.chunkers import chunk_source, decode_source
    from omakase.lab.listing import code_files
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


def threads_compare(db: Path, rounds: int) -> dict[int, float]:
    """Dense p50 in one process with as many torch threads as cores (torch's default) and with one (`lab search`'s)."""
    import os

    import torch

    from omakase.lab.embedders import MiniLM
    from omakase.lab.search import Searcher

    searcher = Searcher(db, MiniLM)
    searcher.warm("dense")
    default = torch.get_num_threads()
    out = {}
    for n in dict.fromkeys((os.cpu_count() or 1, 1)):
        torch.set_num_threads(n)
        out[n] = statistics.median(timed(lambda: searcher.search(q, 10, "dense"))[0]
                                   for _ in range(rounds) for q in QUERIES)
    torch.set_num_threads(default)
    return out


def command(db: Path, method: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "omakase", "lab", "search", QUERIES[0], "--db", str(db), "--method", method,
            "--k", "10", *extra]


def median_wall(cmd: list[str], processes: int) -> float:
    walls = []
    for _ in range(processes):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def through_server(db: Path, processes: int) -> tuple[list[float], float, float]:
    """(ms of each query over HTTP, seconds until the server answered, median s of `lab search --server`)."""
    import json
    import urllib.parse
    import urllib.request

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "omakase", "lab", "serve", "--db", str(db), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: {server.stderr.read().decode()[-500:]}")
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        ready = time.perf_counter() - t0
        ms = []
        for q in QUERIES:
            t = time.perf_counter()
            json.loads(urllib.request.urlopen(f"{url}/search?{urllib.parse.urlencode({'q': q, 'k': 10})}").read())
            ms.append((time.perf_counter() - t) * 1000)
        cli = median_wall(command(db, "dense", "--server", url), processes) if processes else float("nan")
        return ms, ready, cli
    finally:
        server.terminate()
        server.wait(10)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "omakase-lab-search" / "db")
    ap.add_argument("--source", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--word-pieces", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--processes", type=int, default=20, help="new processes per one-shot measurement")
    ap.add_argument("--threads", type=int, default=0, help="torch threads in section 2's table (0: torch's default)")
    ap.add_argument("--build-only", action="store_true", help="Build the index if missing, measure nothing.")
    ap.add_argument("--no-server", action="store_true", help="Skip the resident server.")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if not (args.db / "chroma.sqlite3").is_file():
        build(args.db, args.source, args.chunks, args.word_pieces)
    if args.build_only:
        return
    console = Console()
    console.print(f"load before: {load()}", soft_wrap=True)
    once, latency = in_process(args.db, args.rounds)
    table = Table(title=f"one process, {len(QUERIES)} queries x {args.rounds} rounds, k = 10 "
                        f"({torch.get_num_threads()} torch threads)")
    for h in ("method", "queries", "p50 ms", "p95 ms", "max ms"):
        table.add_column(h, justify="right")
    for name, ms in latency.items():
        table.add_row(name, str(len(ms)), f"{pct(ms, 50):.1f}", f"{pct(ms, 95):.1f}", f"{max(ms):.1f}")
    console.print(table)
    for what, value in once:
        console.print(f"{what}: {value:.0f}" + ("" if what == "chunks" else " ms"))
    for n, ms in threads_compare(args.db, args.rounds).items():
        console.print(f"dense p50 in one process with {n} torch thread{'s' if n > 1 else ''}: {ms:.1f} ms")
    if not args.no_server:
        ms, ready, cli = through_server(args.db, args.processes)
        console.print(f"resident server: ready after {ready:.1f} s; {len(ms)} dense queries over HTTP: "
                      f"p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms", soft_wrap=True)
        if args.processes:
            console.print(f"`omakase lab search --server URL` as a new process: {cli:.2f} s "
                          f"(median of {args.processes})", soft_wrap=True)
    if args.processes:
        for method in ("dense", "bm25"):
            console.print(f"one-shot `omakase lab search --method {method}` (a new process, loads everything): "
                          f"{median_wall(command(args.db, method), args.processes):.1f} s "
                          f"(median of {args.processes})", soft_wrap=True)
    console.print(f"load after: {load()}", soft_wrap=True)


if __name__ == "__main__":
    main()
