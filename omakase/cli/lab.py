"""`omakase lab ...`: the tasting lab (embeddings, similarity, code search), measured offline.

Thin: parse, call omakase.lab, print a rich table. Heavy libraries are imported
inside the commands so `omakase --help` works without the lab extra.
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from ..errors import OmakaseError
from .common import console, dry_run_option, not_blank, plural, writable_folder

app = typer.Typer(help="The tasting lab: embeddings, similarity and semantic code search.", no_args_is_help=True)
LAB_EXTRA = ("pathspec", "chromadb", "bm25s", "tree_sitter", "sentence_transformers")  # found, not imported


@app.callback()
def _needs_the_extra() -> None:
    """Every lab command needs the lab extra: without it, one line naming the install, before any option is read."""
    from importlib.util import find_spec

    missing = [name for name in LAB_EXTRA if find_spec(name) is None]
    if missing:
        raise OmakaseError(f'the lab needs its extra ({", ".join(missing)} missing); install PyTorch\'s CPU build '
                           f'first (see the README), then from the checkout: pip install -e ".[lab]"')

EmbedderOpt = typer.Option("minilm", "--embedder", help="minilm (all-MiniLM-L6-v2) or ming (a checkpoint's flavor cards).")
CheckpointOpt = typer.Option(None, "--checkpoint", callback=not_blank, help="Checkpoint for --embedder ming.")
REPORTS = Path("lab-reports")
# a bootstrap holds resamples x queries numbers: a million over 500 queries is 4 GB; 100,000 already
# puts a 95% interval's ends within about 0.1% of where more resamples would
MAX_RESAMPLES = 100_000
MAX_THREADS = os.cpu_count() or 1  # torch threads past the number of cores only wait for each other
ForceOpt = typer.Option(False, "--force", help="Overwrite an existing report in --out.")


def OutOpt(stem: str):
    return typer.Option(None, "--out", callback=not_blank, help=f"Report folder. Default: a new lab-reports/{stem}-001, -002, ... each run.")


@contextmanager
def _report(out: Path | None, force: bool, stem: str):
    """The run's report: in --out, or in a freshly numbered folder, taken only once every check has passed.

    A folder that cannot be made is a usage error (choose another --out); a run that fails
    removes the folder it made, if it is still empty.
    """
    from ..report_folder import Report, next_report_dir

    where = out if out is not None else REPORTS
    made = out is None or not Path(out).exists()
    try:
        report = Report(out if out is not None else next_report_dir(stem, REPORTS), force)
    except OSError as e:
        raise OmakaseError(f"cannot make a report folder in {where} ({e.strerror or e}); choose a writable --out") from None
    try:
        yield report
    except BaseException:
        if made and report.dir.is_dir() and not any(report.dir.iterdir()):
            report.dir.rmdir()
        raise


def _dry_run(would: str, out: Path | None = None, force: bool = False, embedder: str | None = None,
             checkpoint: Path | None = None) -> None:
    """--dry-run's last checks (the report folder; a Ming embedder's checkpoint, which loads in a moment),
    then one line saying what the command would have done. MiniLM is never loaded: that is the work."""
    from ..lab.embedders import make_embedder
    from ..report_folder import check_out

    if out is not None:
        writable_folder(out, f"--out {out}")
        check_out(out, force)
    if embedder == "ming":
        make_embedder(embedder, checkpoint)
    _say(f"dry run: every option and file checked; would {would}; nothing was computed or written")


def _read_items(items: list[str] | None, file: Path | None) -> list[str] | None:
    if file is not None:
        from ..lab.beir import read_utf8

        if not file.is_file():
            raise OmakaseError(f"--file {file}: no such file; give a text file with one item per line")
        items = [line.strip() for line in read_utf8(file, "--file").splitlines() if line.strip()]
    if items is not None and len(items) < 2:
        raise OmakaseError("give at least two items to compare (--item A --item B, or --file with two lines)")
    for i, text in enumerate(items or [], 1):
        if not text.strip():
            raise OmakaseError(f"item {i} is empty; give some text to embed")
    return items


@app.command()
def similarity(
    item: list[str] = typer.Option(None, "--item", help="An item to compare (repeat); replaces the built-in sets."),
    file: Path = typer.Option(None, "--file", callback=not_blank, help="A text file with one item per line."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    out: Path = OutOpt("similarity"),
    force: bool = ForceOpt,
    dry_run: bool = dry_run_option(),
) -> None:
    """Experiment 1: cosine-similarity heatmaps (words, paraphrases, 'sum' in three languages)."""
    from rich.table import Table

    from ..lab import similarity as exp
    from ..lab.embedders import check_embedder, make_embedder

    items = _read_items(item, file)
    check_embedder(embedder, checkpoint)
    if dry_run:
        return _dry_run(f"embed {len(items) if items else 'the built-in'} items and draw their heatmaps", out, force,
                        embedder, checkpoint)
    with _report(out, force, "similarity") as report:
        emb = make_embedder(embedder, checkpoint)
        sets = {"your-items": items} if items else exp.BUILTIN_SETS
        results = exp.run(emb, report, sets)
    console.print(f"embedder [bold]{emb.name}[/]: [bold]{emb.dim}[/] dimensions")
    for name, res in results.items():
        table = Table(title=name)
        table.add_column("")
        for lab in res["labels"]:
            table.add_column(lab, justify="right")
        for lab, row in zip(res["labels"], res["matrix"]):
            table.add_row(lab, *(f"{x:.2f}" for x in row))
        console.print(table)
    console.print(f"report: {report.dir / 'report.md'}")


@app.command()
def metrics(
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    out: Path = OutOpt("metrics"),
    force: bool = ForceOpt,
    dry_run: bool = dry_run_option(),
) -> None:
    """Experiment 2: cosine vs Euclidean, from scratch; the unit-vector identity and a counter-example."""
    from rich.table import Table

    from ..lab import cosine_vs_euclid as exp
    from ..lab.embedders import check_embedder, make_embedder

    check_embedder(embedder, checkpoint)
    if dry_run:
        return _dry_run("compare cosine and Euclidean distance", out, force, embedder, checkpoint)
    with _report(out, force, "metrics") as report:
        res = exp.run(make_embedder(embedder, checkpoint), report)
    table = Table(title=f"cosine vs Euclidean ({res['embedder']}, {res['dim']}-d)")
    table.add_column("check")
    table.add_column("result")
    table.add_row("max |scratch − NumPy|, cosine", f"{res['max_abs_diff_cosine_vs_numpy']:.1e}")
    table.add_row("max |scratch − NumPy|, Euclidean", f"{res['max_abs_diff_euclidean_vs_numpy']:.1e}")
    table.add_row("max | ‖a−b‖² − (2−2cos) |, unit vectors", f"{res['unit_identity_max_gap']:.1e}")
    table.add_row(f"neighbours of {res['query']!r} by cosine", ", ".join(res["unit_rank_by_cosine"]))
    table.add_row(f"neighbours of {res['query']!r} by Euclidean", ", ".join(res["unit_rank_by_euclidean"]))
    table.add_row(f"{res['stretched_word']!r} stretched ×3: by cosine", ", ".join(res["stretched_rank_by_cosine"]))
    table.add_row(f"{res['stretched_word']!r} stretched ×3: by Euclidean", ", ".join(res["stretched_rank_by_euclidean"]))
    table.add_row("2-d toy: cosine / Euclidean pick", f"{res['toy_rank_by_cosine'][0]} / {res['toy_rank_by_euclidean'][0]}")
    console.print(table)
    console.print(f"report: {report.dir / 'report.md'}")


def _shipped(name: str) -> Path:
    from ..lab.beir import SHIPPED

    return SHIPPED / name


@app.command("eval")
def eval_(
    corpus: Path = typer.Option(None, "--corpus", callback=not_blank, help="corpus.jsonl (BEIR). Default: the shipped code-search set."),
    queries: Path = typer.Option(None, "--queries", callback=not_blank, help="queries.jsonl (BEIR)."),
    qrels: Path = typer.Option(None, "--qrels", callback=not_blank, help="qrels.tsv: query-id, corpus-id, score."),
    set_: Path = typer.Option(None, "--set", callback=not_blank, help="A BEIR folder holding all three files (as `lab make-set` writes)."),
    method: list[str] = typer.Option(None, "--method", help="random, bm25, dense or hybrid (repeat). Default: all four."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    seed: int = typer.Option(0, "--seed", min=0),
    resamples: int = typer.Option(10_000, "--resamples", min=1, max=MAX_RESAMPLES,
                                  help=f"Bootstrap and randomization-test resamples (at most {MAX_RESAMPLES:,})."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON instead of tables."),
    out: Path = OutOpt("eval"),
    force: bool = ForceOpt,
    dry_run: bool = dry_run_option(),
) -> None:
    """Evaluate retrieval (nDCG@10, MRR@10, Recall@k, Precision@k) with 95% intervals and significance tests."""
    import json

    from ..lab import beir, retrieval_eval
    from ..lab.embedders import check_embedder, make_embedder
    from ..lab.retrievers import METHODS, Scorer

    methods = list(method) if method else list(METHODS)
    for m in methods:
        if m not in METHODS:
            raise OmakaseError(f"unknown method {m!r}; choose from {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise OmakaseError("a method is named twice in --method")
    check_embedder(embedder, checkpoint)
    if set_ is not None:
        if (corpus, queries, qrels) != (None, None, None):
            raise OmakaseError("give --set or --corpus/--queries/--qrels, not both")
        if not set_.is_dir():
            raise OmakaseError(f"--set {set_}: no such folder; give a folder with corpus.jsonl, queries.jsonl and qrels.tsv")
        corpus, queries, qrels = set_ / "corpus.jsonl", set_ / "queries.jsonl", set_ / "qrels.tsv"
        missing = [p.name for p in (corpus, queries, qrels) if not p.is_file()]
        if missing:
            raise OmakaseError(f"--set {set_}: no {' or '.join(missing)} in it; give a folder with corpus.jsonl, "
                               "queries.jsonl and qrels.tsv")
    shipped = corpus is None and queries is None and qrels is None
    if not shipped and None in (corpus, queries, qrels):
        raise OmakaseError("give all three of --corpus, --queries and --qrels, or none for the shipped set")
    docs = beir.load_corpus(corpus or _shipped("corpus.jsonl"))
    qs = beir.load_queries(queries or _shipped("queries.jsonl"))
    rels = beir.load_qrels(qrels or _shipped("qrels.tsv"), qs, docs)
    if dry_run:
        return _dry_run(f"evaluate {', '.join(methods)} on {len(qs):,} queries over {len(docs):,} documents", out,
                        force, embedder if any(m in ("dense", "hybrid") for m in methods) else None, checkpoint)
    with _report(out, force, "eval") as report:
        scorer = Scorer([d.full_text for d in docs.values()], [q.text for q in qs.values()],
                        lambda: make_embedder(embedder, checkpoint), seed)
        result = retrieval_eval.evaluate(docs, qs, rels, methods, scorer, resamples, seed)
        retrieval_eval.write_report(result, report, shipped)
    if as_json:
        print(json.dumps({k: v for k, v in result.items() if k != "per_query"}, indent=2))
        return
    from rich.table import Table

    for group, n in result["groups"].items():
        header, rows = retrieval_eval.table_rows(result, group)
        table = Table(title=f"{group}: {n} queries, {result['n_docs']} documents (mean [95% CI])")
        for h in header:
            table.add_column(h, justify="left" if h == "metric" else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    tests = Table(title=f"paired randomization test, {retrieval_eval.TEST_METRIC}")
    for h in ("group", "a", "b", "mean(a−b)", "p"):
        tests.add_column(h)
    for t in result["tests"]:
        tests.add_row(t["group"], t["a"], t["b"], f"{t['mean_diff']:+.3f}", f"{t['p_value']:.4f}")
    console.print(tests)
    for line in retrieval_eval.limits(result)[2:]:
        console.print(line)
    console.print(f"report: {report.dir / 'report.md'}")


@app.command("make-set")
def make_set(
    source: str = typer.Argument(..., callback=not_blank, help="An installed package's import name (read, not imported) or a source folder."),
    out: Path = typer.Option(..., "--out", callback=not_blank, help="Folder for the set: corpus.jsonl, queries.jsonl, qrels.tsv, make_set.json."),
    max_pairs: int = typer.Option(500, "--max", min=1, help="At most this many query-function pairs (a seeded sample)."),
    force: bool = typer.Option(False, "--force", help="Replace a set already in --out."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Build a BEIR code-search set: each documented function's first docstring sentence finds its code."""
    from ..lab import make_set as ms

    ms.check_out(out, force)  # refused before the package is read
    if dry_run:
        writable_folder(out, f"--out {out}")
        return _dry_run(f"read the functions of {ms.find_source(source)} into a set in {out}")
    built = ms.build(source, max_pairs)
    ms.write(built, out, max_pairs, force)
    capped = f" (a seeded sample of {built.capped_from})" if built.capped_from > len(built.pairs) else ""
    console.print(f"{len(built.pairs)} queries and {len(built.pairs)} documents{capped} from {built.root}")
    console.print(f"files: {built.files_read} read, {len(built.files_unparsed)} skipped (do not parse), "
                  f"{built.test_files_left_out} test files left out")
    console.print(f"functions: {built.functions} seen, {built.documented} with a first sentence of "
                  f"{ms.MIN_WORDS}+ words, {built.empty_bodies} left out (nothing but the docstring), "
                  f"{built.duplicates_dropped} dropped (a repeated query or document)")
    console.print(f"queries holding a word of their function's name (tag name-word): {built.name_word_queries} "
                  f"of {len(built.pairs)}")
    for rel in built.files_unparsed:
        _warn(f"{rel}: not UTF-8 Python that parses; skipped")
    console.print(f"set: {out} (evaluate it with: omakase lab eval --set {out})")


# a str, not a Path: Path would fold http://HOST:PORT into http:/HOST:PORT
DbOpt = typer.Option("lab-index", "--db", callback=not_blank, help="Folder of the Chroma database, or http(s)://HOST:PORT of a "
                     "Chroma server (chroma run --path DIR --host HOST --port PORT).")
ExcludeOpt = typer.Option(
    None, "--exclude", metavar="GLOB",
    help="Leave out matching files or folders (repeat). .gitignore patterns, relative to PATH: * ? and character "
         "classes within a name, ** across folders, a trailing / for folders only, ! to re-include.",
)
GitignoreOpt = typer.Option(
    True, "--gitignore/--no-gitignore", help="Honour the .gitignore files in PATH and every folder below it.")
MAX_FILE_MB = 1_000_000  # a megabyte in bytes, as --max-file-size counts


def ThreadsOpt(default, what: str):
    return typer.Option(default, "--threads", min=1, max=MAX_THREADS,
                        help=f"Torch threads for MiniLM {what} (at most the {MAX_THREADS} cores here).")


@app.command()
def index(
    path: Path = typer.Argument(..., callback=not_blank, help="A folder of Python, JavaScript and SQL code."),
    db: str = DbOpt,
    strategy: str = typer.Option("F", "--strategy", help="Chunking: F function windows (each function and method, "
                                 "cut to what the embedder reads), A functions, B blocks, C 20-line windows, D cAST."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    exclude: list[str] = ExcludeOpt,
    gitignore: bool = GitignoreOpt,
    threads: int = ThreadsOpt(None, "while embedding. Default: torch's default (the number of cores); on a busy "
                              "machine fewer can be faster"),
    max_file_size: float = typer.Option(1.0, "--max-file-size", min=0.001, max=1000, metavar="MB",
                                        help="Skip files bigger than this many megabytes (data, bundles)."),
    rebind: bool = typer.Option(False, "--rebind", help="The database indexes this code at another path (a moved "
                                "or renamed checkout): keep its chunks and record PATH as its root. Happens by itself "
                                "when 90% of the stored files are found under PATH."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Embed a code folder into ChromaDB; re-running touches only files that changed.

    Each batch of chunks is written as soon as it is embedded, so Ctrl-C keeps what was done and
    the same command resumes. Files that are not text, generated or too big are skipped and
    counted, and code that does not parse is cut into 20-line windows, each with a warning.
    One run at a time writes to a database.
    """
    from ..lab import store
    from ..lab.chunkers import STRATEGIES, check_strategy
    from ..lab.embedders import check_embedder, make_embedder, set_threads
    from ..lab.listing import list_folder

    # everything that can be refused is refused here, before the model takes seconds to load
    strategy = check_strategy(strategy)
    check_embedder(embedder, checkpoint)
    exclude = list(exclude or ())
    max_bytes = round(max_file_size * MAX_FILE_MB)
    listing = list_folder(path, exclude, gitignore, max_bytes)  # an empty or missing folder, a bad pattern
    if dry_run:  # a database that exists is checked as a run would; a new one only needs a writable place
        if store.server_address(db) is None and not Path(db).exists():
            writable_folder(Path(db), f"--db {db}")
        else:
            store.check_target(db, listing, strategy, embedder, create=True, rebind=rebind)
        return _dry_run(f"index the files of {listing.root} into {db}", embedder=embedder, checkpoint=checkpoint)
    try:
        with store.writer_lock(db):  # another run writing this --db; a folder that cannot be written
            # not Chroma; another folder, strategy or embedder
            store.check_target(db, listing, strategy, embedder, create=True, rebind=rebind)
            emb = make_embedder(embedder, checkpoint)
            n_threads = set_threads(threads) if embedder == "minilm" else None  # Ming's cards use no torch
            with _progress_display() as show:
                stats = store.index_folder(path, db, emb, strategy, progress=show, exclude=exclude,
                                           gitignore=gitignore, warn=_warn, max_file_size=max_bytes, rebind=rebind,
                                           listing=listing)
    except KeyboardInterrupt:
        print("omakase: interrupted; every batch embedded so far is saved, so running the same command again "
              "resumes where this run stopped", file=sys.stderr)
        raise typer.Exit(130) from None
    except Exception as e:  # Chroma's own errors while writing: a read-only database file, a full disk
        if not type(e).__module__.startswith("chromadb"):
            raise
        said = (str(e).strip().splitlines() or [type(e).__name__])[0][:100]
        raise OmakaseError(f"Chroma could not write to --db {db} ({said}); check that the folder and its files "
                           f"can be written, then run the same command again to resume") from None
    if stats.rebound_from:
        _say(f"the database indexed {stats.rebound_from}; its chunks are kept and its root is now {listing.root}")
    _say(_index_summary(stats, db))
    skipped = _skipped_summary(stats)
    if skipped:
        _say(skipped)
    if stats.lines.total:
        _say(f"lines seen: {emb.name} reads {100 * stats.lines.share:.1f}% of the {stats.lines.total} "
             f"non-blank lines in the files indexed (strategy {strategy}, {STRATEGIES[strategy]})"
             + (f"; torch threads: {n_threads}" if n_threads else ""))
    if stats.truncated:
        _say(f"{stats.truncated} chunks were longer than {emb.name} reads ({emb.unseen_means}).")


def _say(line: str) -> None:
    """A line of output that a narrow terminal or a log never breaks (a number cut in two reads as two)."""
    console.print(line, soft_wrap=True, markup=False, highlight=False)


def _warn(line: str) -> None:
    print(f"omakase: warning: {line}", file=sys.stderr)


PLAIN_PROGRESS_EVERY = 10.0  # seconds between progress lines in a log


@contextmanager
def _progress_display():
    """A progress bar with an ETA at a terminal; in a log, a plain line every PLAIN_PROGRESS_EVERY seconds."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if console.is_terminal:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            tasks = {}

            def show(p) -> None:
                if p.stage not in tasks:
                    tasks[p.stage] = bar.add_task(f"{p.stage} ({'files' if p.stage == 'reading' else 'chunks'})",
                                                  total=p.total)
                # the bar's own ETA; chunks are embedded shortest first, so it runs long at first
                bar.update(tasks[p.stage], completed=p.done)

            yield show
        return
    last, printed = [time.monotonic()], [False]

    def show(p) -> None:
        now = time.monotonic()
        finished = p.done == p.total and printed[0]  # a run short enough to print no line ends without one
        if p.stage != "embedding" or not p.done or (now - last[0] < PLAIN_PROGRESS_EVERY and not finished):
            return
        last[0], printed[0] = now, True
        eta = p.eta_seconds
        left = f", about {_duration(eta)} left" if eta is not None and p.done < p.total else ""
        print(f"omakase: embedded {p.done}/{p.total} chunks ({100 * p.done / p.total:.0f}%), "
              f"{p.done / p.seconds:.1f} chunks/s{left}", file=sys.stderr, flush=True)

    yield show


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _index_summary(stats, db: str) -> str:
    from ..lab.chunkers import WINDOW

    windowed = f" ({stats.files_windowed} in {WINDOW}-line windows: no parse)" if stats.files_windowed else ""
    resumed = f" ({stats.files_resumed} resumed)" if stats.files_resumed else ""
    counts = [f"{stats.files_indexed} indexed{windowed}{resumed}", f"{stats.files_unchanged} unchanged",
              f"{stats.files_removed} removed"]
    if stats.files_empty:
        counts.append(f"{stats.files_empty} empty")
    return (f"{stats.files} files: {', '.join(counts)}; {stats.chunks_added} chunks added in {stats.seconds:.1f} s "
            f"({stats.chunks_per_second:.0f} chunks/s); {stats.chunks_total} chunks in {db}")


def _skipped_summary(stats) -> str:
    """`skipped: 3 folders (2 hidden, 1 dependencies), 4 files (2 generated, ...)`: every reason, counted."""
    from ..lab.listing import TOO_BIG, size_text

    def part(counter, what: str) -> str | None:
        n = sum(counter.values())
        if not n:
            return None
        reasons = ", ".join(f"{c} {r}" + (f" of {size_text(stats.max_file_size)}" if r == TOO_BIG else "")
                            for r, c in counter.most_common())
        return f"{n} {what}{'s' if n != 1 else ''} ({reasons})"

    parts = [p for p in (part(stats.skipped_folders, "folder"), part(stats.skipped_files, "file")) if p]
    return "skipped: " + ", ".join(parts) if parts else ""


@app.command()
def search(
    query: list[str] = typer.Argument(
        None, help="Queries, one per argument. None: one per line on standard input, or --interactive at a terminal."),
    k: int = typer.Option(5, "--k", min=1, max=1000),
    method: str = typer.Option("dense", "--method", help="dense (the stored vectors), bm25 (words; loads no model) "
                                                         "or hybrid (reciprocal rank fusion of both)."),
    path: list[str] = typer.Option(None, "--path", metavar="GLOB", help="Only paths matching this fnmatch glob "
                                   "on the indexed relative path (repeat: any may match; * also crosses /)."),
    lang: list[str] = typer.Option(None, "--lang", help="Only python, javascript or sql files, by extension (repeat)."),
    no_tests: bool = typer.Option(False, "--no-tests", help="Leave out test/, tests/ and __tests__/ folders and "
                                  "files named test_*.py, *_test.py, *.test.js, *.spec.js."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Load once, then answer one query per line "
                                     "until an empty line or end of input (the default at a terminal)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per query on stdout, and nothing else."),
    check_exact: bool = typer.Option(False, "--check-exact", help="Also report overlap@k between Chroma's approximate "
                                     "answer and exact NumPy search (reads every stored vector)."),
    db: str = DbOpt,
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    threads: int = ThreadsOpt(1, "to embed the query. One query is a small job: more threads mostly wait"),
    server: str = typer.Option(None, "--server", metavar="URL", callback=not_blank, help="Ask a running `omakase lab serve` at URL "
                               "(http://127.0.0.1:PORT): no model to load. If none answers, search here."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Search an index: one row per function (`path:def_line  symbol  lines  score`) and the match's first lines.

    Several queries (arguments, or lines on standard input) share one loaded model; bm25 needs none.
    """
    import json

    from ..lab import search as lab_search
    from ..lab import store
    from ..lab.embedders import check_embedder, make_embedder, set_threads

    # everything a user can get wrong is refused here, before the model takes seconds to load
    lab_search.check_method(method, check_exact)
    filters = lab_search.check_filters(path, lang, no_tests)
    queries = _queries(query, interactive)  # None: ask line by line
    needs_model = method != "bm25"
    if needs_model:
        check_embedder(embedder, checkpoint)

    if dry_run:
        store.check_target(db, embedder_name=embedder if needs_model else None)
        return _dry_run(f"search {db} for {plural(len(queries), 'query', 'queries') if queries else 'queries'}",
                        embedder=embedder if needs_model else None, checkpoint=checkpoint)

    def show(a: dict) -> None:
        text = json.dumps(a, ensure_ascii=False) if as_json else _answer_text(a)
        if text:  # at a terminal the answer was drawn already
            print(text, flush=True)

    if server is not None:
        from ..lab import serve

        remote = serve.Client(server, dict(method=method, path=path or [], lang=lang or [], no_tests=no_tests,
                                           check_exact=check_exact))
        if remote.answers():
            ask = lambda q: show(remote.search(q, k))  # noqa: E731
            if queries is not None:
                for q in queries:
                    ask(q)
                return
            _ask_line_by_line(ask, "search> " if sys.stdin.isatty() else "")
            return
        print(f"omakase: note: no lab server answers at {server} (start one with: omakase lab serve --db {db}); "
              f"searching here", file=sys.stderr)

    store.check_target(db, embedder_name=embedder if needs_model else None)  # a wrong, missing or empty --db
    if needs_model and embedder == "minilm":
        set_threads(threads)
    searcher = lab_search.Searcher(db, lambda: make_embedder(embedder, checkpoint))

    def answer(q: str) -> None:
        show(searcher.search(q, k, method, filters, check_exact).as_json())

    if queries is not None:
        for q in queries:
            answer(q)
        return
    at_terminal = sys.stdin.isatty()
    if at_terminal:
        print(f"{method} search over {searcher.size} chunks in {db}: one query a line; an empty line or Ctrl-D "
              f"ends (loading ...)", file=sys.stderr, flush=True)
    searcher.warm(method, check_exact)
    _ask_line_by_line(answer, "search> " if at_terminal else "")


def _answer_text(a: dict) -> str:
    """An answer (as --json prints it) for people: plain lines, or with the snippets highlighted at a terminal."""
    from ..lab.search import Answer, Result

    answer = Answer(a["query"], a["method"], a["k"], a["searched"],
                    [Result("", r["path"], r["def_line"], r["start_line"], r["end_line"], r["symbol"], r["score"],
                            r["method"], r["snippet"]) for r in a["results"]],
                    a.get("exact_overlap"), a.get("partial"), a.get("weak_match", False))
    if not console.is_terminal:
        return "\n".join(answer.as_text())
    from rich.padding import Padding
    from rich.syntax import Syntax

    from ..lab.listing import language_of

    _say(answer.header())
    if answer.empty_reason():
        _say(f"  ({answer.empty_reason()})")
    for r, row in zip(answer.results, answer.rows()):
        console.print(f"  [bold]{row}[/]", soft_wrap=True, highlight=False)
        console.print(Padding(Syntax(r.snippet, language_of(r.path) or "text", line_numbers=True,
                                     start_line=r.start_line, theme="ansi_dark", background_color="default"),
                              (0, 0, 0, 4)))
    if answer.exact_overlap is not None:
        _say(f"  overlap@{answer.k} with exact NumPy search: {answer.exact_overlap:.2f}")
    for n in answer.notes():
        console.print(f"  [yellow]note:[/] {n}", soft_wrap=True, highlight=False)
    return ""


@app.command()
def serve(
    db: str = DbOpt,
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; only this machine by default."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    threads: int = ThreadsOpt(1, "to embed each query"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every option, the database and the port, then "
                                 "stop before the model loads."),
) -> None:
    """Keep an index and its model loaded, and answer `GET /search?q=...&k=...` with the rows --json prints.

    `omakase lab search --server http://127.0.0.1:PORT` asks it; a query then costs tens of
    milliseconds instead of the seconds a model load takes.
    """
    from ..lab import search as lab_search
    from ..lab import serve as lab_serve
    from ..lab import store
    from ..lab.embedders import check_embedder, make_embedder, set_threads
    from .common import listen

    check_embedder(embedder, checkpoint)
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise OmakaseError('the lab server needs fastapi and uvicorn: pip install -e ".[web]"') from None
    store.check_target(db, embedder_name=embedder)  # a wrong, missing or empty --db: refused before binding
    listening = listen(host, port)  # a taken or privileged port: one line, before the model loads
    if dry_run:
        listening.close()
        _say(f"dry run: every option checked, {db} is an index and {host}:{port} is free; the server was not started")
        return
    try:
        if embedder == "minilm":
            set_threads(threads)
        searcher = lab_search.Searcher(db, lambda: make_embedder(embedder, checkpoint))
        searcher.warm("hybrid")  # the model and BM25 load now, not on the first query
        app_ = lab_serve.create_app(searcher)
        _say(f"lab search over {searcher.size} chunks in {db} at http://{host}:{port}/search?q=...&k=5 "
             f"(Ctrl-C to stop)")
        with listening:
            uvicorn.Server(uvicorn.Config(app_, log_level="warning")).run(sockets=[listening])
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C while loading, or once uvicorn has shut down
        raise typer.Exit(130) from None


def _queries(args: list[str] | None, interactive: bool) -> list[str] | None:
    """The queries from the arguments or a piped standard input; None for line-by-line questions."""
    from ..lab.search import check_queries

    if interactive:
        if args:
            raise OmakaseError("give queries as arguments or ask them with --interactive, not both")
        return None
    if args:
        return check_queries(list(args))
    if sys.stdin is None or sys.stdin.isatty():
        return None  # someone at a terminal: ask
    # piped: read it all first, so a bad input is refused before the model loads; blank lines are no query
    return check_queries([line.strip() for line in sys.stdin.read().splitlines() if line.strip()])


def _ask_line_by_line(answer, prompt: str) -> None:
    """Answer each line until an empty one or the end of input; a bad query costs its line, not the session."""
    while True:
        if prompt:
            print(prompt, end="", file=sys.stderr, flush=True)  # stderr: stdout holds only answers (--json)
        line = sys.stdin.readline()
        if not line.strip():
            return
        try:
            answer(line.strip())
        except OmakaseError as e:
            print(f"omakase: error: {e}", file=sys.stderr, flush=True)


@app.command()
def chunking(
    code: Path = typer.Option(None, "--code", callback=not_blank, help="A code folder. Default: the shipped snippets laid out as files."),
    queries: Path = typer.Option(None, "--queries", callback=not_blank, help='queries.jsonl: "_id", "text", "relevant": [{"path", "start_line", "end_line"}].'),
    k: int = typer.Option(5, "--k", min=1),
    budget: int = typer.Option(40, "--budget", min=1, help="Fixed context budget in lines."),
    strategies: str = typer.Option("ABCDF", "--strategies", help="Any of A (functions), B (blocks), C (windows), "
                                   "D (cAST), F (function windows)."),
    seed: int = typer.Option(0, "--seed", min=0),
    out: Path = OutOpt("chunking"),
    force: bool = ForceOpt,
    dry_run: bool = dry_run_option(),
) -> None:
    """Experiment 4: compare chunking strategies on span recall, precision, IoU, lines seen and cost."""
    from rich.table import Table

    from ..lab import chunking_eval as exp
    from ..lab.chunkers import STRATEGIES
    from ..lab.embedders import MiniLM

    strategies = strategies.strip().upper()
    if not strategies:
        raise OmakaseError(f"--strategies is empty; give some of {''.join(STRATEGIES)}")
    for s in strategies:
        if s not in STRATEGIES:
            raise OmakaseError(f"--strategies {strategies!r} holds {s!r}, not a chunking strategy; choose from "
                               f"{', '.join(STRATEGIES)}")
    if (code is None) != (queries is None):
        raise OmakaseError("give both --code and --queries, or neither for the shipped set")
    span_queries = exp.load_span_queries(queries, code) if code is not None else None
    if dry_run:
        return _dry_run(f"compare chunking strategies {strategies}", out, force)
    with _report(out, force, "chunking") as report:
        if code is None:
            code, queries = exp.materialize_shipped(report.dir / "shipped")
            span_queries = exp.load_span_queries(queries, code)
        res = exp.run(code, span_queries, MiniLM(), report, k, budget, strategies, seed)
    table = Table(title=f"chunking: {res['n_queries']} queries, k = {k}, budget = {budget} lines (mean [95% CI])")
    for h in ("strategy", "recall@k", "IoU@k", "recall@N", "IoU@N", "lines seen", "chunks", "trunc.", "index s", "query ms"):
        table.add_column(h)
    for key, v in res["strategies"].items():
        m = v["metrics"]
        table.add_row(f"{key} {v['name']}", *(exp.fmt(m[x]) for x in ("recall@k", "IoU@k", "recall@N", "IoU@N")),
                      f"{100 * v['lines_seen']:.1f}%", str(v["chunks"]), f"{100 * v['truncated_share']:.0f}%",
                      f"{v['index_seconds']:.1f}", f"{v['query_ms']:.0f}")
    console.print(table)
    console.print(f"report: {report.dir / 'report.md'}")
