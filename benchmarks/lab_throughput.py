"""Indexing throughput of `omakase lab index`: strategies, batch sizes and torch threads, in one run.

    python benchmarks/lab_throughput.py [FOLDER] [--repeats 3] [--threads 1 2] [--sample N] [--rows A,F]

FOLDER defaults to the installed scikit-learn source; --sample N indexes every k-th of its
files (sorted, spread over the whole tree) so a quick look stays quick. Rows, each indexing
into a fresh Chroma database with one MiniLM loaded outside the timing, interleaved repeat by
repeat so a change in the machine's load hits every row alike. Every row sorts the run's
chunks by length and writes each batch as soon as it is embedded (store.index_folder):

    A        strategy A (whole top-level functions and classes), batches of 32
    F        strategy F (function windows, the default), batches of 32 (MiniLM's default)
    F-16     strategy F, batches of 16
    F-64     strategy F, batches of 64

Columns: chunks, word pieces read by the model (at most 256 a chunk), chunks cut at 256, the
share of non-blank lines some vector read whole, and the median over repeats of seconds,
chunks/s and word pieces/s. F cuts more, shorter chunks than A, so chunks/s alone flatters it:
word pieces/s and seconds compare the work done.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROWS = {  # name: (strategy, chunks a batch)
    "A": ("A", 32),
    "F": ("F", 32),
    "F-16": ("F", 16),
    "F-64": ("F", 64),
}


class Counting:
    """The embedder, counting the word pieces it reads."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name, self.dim, self.unseen_means, self.reader = embedder.name, embedder.dim, embedder.unseen_means, embedder.reader
        self.read = 0

    def embed(self, texts):
        emb = self.embedder.embed(texts)
        self.read += sum(t - u for t, u in zip(emb.tokens, emb.unseen))
        return emb


def sampled(folder: Path, n: int, tmp: Path) -> Path:
    """A copy of every k-th code file under folder (sorted), n files in all, at their relative paths."""
    from omakase.lab.listing import code_files

    files = code_files(folder)
    step = max(1, len(files) // n)
    out = tmp / "sample"
    for path in files[::step][:n]:
        dest = out / path.relative_to(folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="*", default=[None], help="torch thread counts to try (default: torch's)")
    ap.add_argument("--sample", type=int, default=0, help="index only this many files, spread over the folder")
    ap.add_argument("--rows", default=",".join(ROWS), help=f"some of {', '.join(ROWS)}")
    args = ap.parse_args()

    from omakase.lab import store
    from omakase.lab.embedders import MiniLM, set_threads

    if args.folder:
        folder = Path(args.folder)
    else:
        import sklearn  # its source, read as files; only located here

        folder = Path(sklearn.__file__).parent
    tmp = Path(tempfile.mkdtemp(prefix="lab-throughput-"))
    if args.sample:
        folder = sampled(folder, args.sample, tmp)
    rows = args.rows.split(",")
    unknown = set(rows) - set(ROWS)
    if unknown:
        ap.error(f"unknown rows {', '.join(sorted(unknown))}; choose from {', '.join(ROWS)}")
    embedder = MiniLM()
    warm = tmp / "warm"  # the first index of a process pays for first calls into Chroma and torch: not a row's cost
    warm.mkdir()
    (warm / "a.py").write_text("def f(x):\n    return x + 1\n")
    for row in rows:
        store.index_folder(warm, tmp / f"db-warm-{row}", Counting(embedder), ROWS[row][0])
    for threads in args.threads:
        used = set_threads(threads)
        runs: dict[str, list] = {r: [] for r in rows}
        for rep in range(args.repeats):
            for row in rows:
                strategy, batch = ROWS[row]
                counting = Counting(embedder)
                # each row counts its word pieces afresh, as a new `lab index` process would: the tokenizer's
                # cache would otherwise make every row after the first skip most of its chunking
                getattr(embedder.reader.count, "cache_clear", lambda: None)()
                stats = store.index_folder(folder, tmp / f"db-{threads}-{row}-{rep}", counting, strategy,
                                           batch_size=batch)
                runs[row].append((stats, counting.read))
        table = Table(title=f"lab index on {folder}: {used} torch threads, median of {args.repeats}")
        for h in ("row", "strategy", "files", "chunks", "word pieces read", "cut at 256", "lines seen",
                  "median s", "chunks/s", "word pieces/s"):
            table.add_column(h, justify="right")
        for row in rows:
            stats, read = runs[row][0]
            secs = statistics.median(s.seconds for s, _ in runs[row])
            table.add_row(row, ROWS[row][0], str(stats.files_indexed), str(stats.chunks_added), str(read),
                          str(stats.truncated), f"{100 * stats.lines.share:.1f}%", f"{secs:.1f}",
                          f"{stats.chunks_added / secs:.1f}", f"{read / secs:.0f}")
        Console(width=200).print(table)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
