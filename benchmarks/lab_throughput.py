"""Indexing throughput of `omakase lab index` before and after length-sorted batching, in one run.

    python benchmarks/lab_throughput.py [FOLDER] [--repeats 3] [--threads 1 2] [--sample N]

FOLDER defaults to the installed scikit-learn source; --sample N indexes every k-th of its
files (sorted, spread over the whole tree) so a quick look stays quick. Rows, each indexing
into a fresh Chroma database with one MiniLM loaded outside the timing, interleaved repeat by
repeat so a change in the machine's load hits every row alike:

    before   strategy A, each file embedded on its own in one sentence-transformers call
             (which sorts by characters within the call): the code before function windows
    sorted   strategy A, chunks pooled across files (store.EMBED_POOL) and batched by word-piece length
    after    strategy F (function windows, the default), pooled and batched by length

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

ROWS = {  # name: (strategy, pool chunks across files, sort batches by length)
    "before": ("A", False, False),
    "sorted": ("A", True, True),
    "after": ("F", True, True),
}


class Counting:
    """The embedder, counting the word pieces it reads."""

    def __init__(self, embedder, sort_by_length: bool):
        self.embedder, self.sort_by_length = embedder, sort_by_length
        self.name, self.dim, self.unseen_means, self.reader = embedder.name, embedder.dim, embedder.unseen_means, embedder.reader
        self.read = 0

    def embed(self, texts):
        self.embedder.sort_by_length = self.sort_by_length
        emb = self.embedder.embed(texts)
        self.read += sum(t - u for t, u in zip(emb.tokens, emb.unseen))
        return emb


def sampled(folder: Path, n: int, tmp: Path) -> Path:
    """A copy of every k-th code file under folder (sorted), n files in all, at their relative paths."""
    from omakase.lab.chunkers import code_files

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
        store.index_folder(warm, tmp / f"db-warm-{row}", Counting(embedder, ROWS[row][2]), ROWS[row][0])
    for threads in args.threads:
        used = set_threads(threads)
        runs: dict[str, list] = {r: [] for r in rows}
        for rep in range(args.repeats):
            for row in rows:
                strategy, pool, sort = ROWS[row]
                counting = Counting(embedder, sort)
                stats = store.index_folder(folder, tmp / f"db-{threads}-{row}-{rep}", counting, strategy,
                                           pool=store.EMBED_POOL if pool else 0)
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
