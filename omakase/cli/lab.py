"""`omakase lab ...`: the tasting lab (embeddings, similarity, code search), measured offline.

Thin: parse, call omakase.lab, print a rich table. Heavy libraries are imported
inside the commands so `omakase --help` works without the lab extra.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from ..errors import OmakaseError
from .common import console

app = typer.Typer(help="The tasting lab: embeddings, similarity and semantic code search.", no_args_is_help=True)

EmbedderOpt = typer.Option("minilm", "--embedder", help="minilm (all-MiniLM-L6-v2) or ming (a checkpoint's flavor cards).")
CheckpointOpt = typer.Option(None, "--checkpoint", help="Checkpoint for --embedder ming.")
REPORTS = Path("lab-reports")
ForceOpt = typer.Option(False, "--force", help="Overwrite an existing report in --out.")


def OutOpt(stem: str):
    return typer.Option(None, "--out", help=f"Report folder. Default: a new lab-reports/{stem}-001, -002, ... each run.")


def _report(out: Path | None, force: bool, stem: str):
    """The run's report: in --out, or in a freshly numbered folder, taken only once every check has passed."""
    from ..report import Report, next_report_dir

    return Report(out if out is not None else next_report_dir(stem, REPORTS), force)


def _read_items(items: list[str] | None, file: Path | None) -> list[str] | None:
    if file is not None:
        if not file.is_file():
            raise OmakaseError(f"--file {file}: no such file; give a text file with one item per line")
        items = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if items is not None and len(items) < 2:
        raise OmakaseError("give at least two items to compare (--item A --item B, or --file with two lines)")
    for i, text in enumerate(items or [], 1):
        if not text.strip():
            raise OmakaseError(f"item {i} is empty; give some text to embed")
    return items


@app.command()
def similarity(
    item: list[str] = typer.Option(None, "--item", help="An item to compare (repeat); replaces the built-in sets."),
    file: Path = typer.Option(None, "--file", help="A text file with one item per line."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    out: Path = OutOpt("similarity"),
    force: bool = ForceOpt,
) -> None:
    """Experiment 1: cosine-similarity heatmaps (words, paraphrases, 'sum' in three languages)."""
    from rich.table import Table

    from ..lab import similarity as exp
    from ..lab.embedders import check_embedder, make_embedder

    items = _read_items(item, file)
    check_embedder(embedder, checkpoint)
    report = _report(out, force, "similarity")
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
) -> None:
    """Experiment 2: cosine vs Euclidean, from scratch; the unit-vector identity and a counter-example."""
    from rich.table import Table

    from ..lab import cosine_vs_euclid as exp
    from ..lab.embedders import check_embedder, make_embedder

    check_embedder(embedder, checkpoint)
    report = _report(out, force, "metrics")
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
    corpus: Path = typer.Option(None, "--corpus", help="corpus.jsonl (BEIR). Default: the shipped code-search set."),
    queries: Path = typer.Option(None, "--queries", help="queries.jsonl (BEIR)."),
    qrels: Path = typer.Option(None, "--qrels", help="qrels.tsv: query-id, corpus-id, score."),
    set_: Path = typer.Option(None, "--set", help="A BEIR folder holding all three files (as `lab make-set` writes)."),
    method: list[str] = typer.Option(None, "--method", help="random, bm25, dense or hybrid (repeat). Default: all four."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    seed: int = typer.Option(0, "--seed", min=0),
    resamples: int = typer.Option(10_000, "--resamples", min=1, help="Bootstrap and randomization-test resamples."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON instead of tables."),
    out: Path = OutOpt("eval"),
    force: bool = ForceOpt,
) -> None:
    """Evaluate retrieval (nDCG@10, MRR@10, Recall@k, Precision@k) with 95% intervals and significance tests."""
    import json

    from ..lab import beir, evaluation
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
    shipped = corpus is None and queries is None and qrels is None
    if not shipped and None in (corpus, queries, qrels):
        raise OmakaseError("give all three of --corpus, --queries and --qrels, or none for the shipped set")
    docs = beir.load_corpus(corpus or _shipped("corpus.jsonl"))
    qs = beir.load_queries(queries or _shipped("queries.jsonl"))
    rels = beir.load_qrels(qrels or _shipped("qrels.tsv"), qs, docs)
    report = _report(out, force, "eval")
    scorer = Scorer([d.full_text for d in docs.values()], [q.text for q in qs.values()],
                    lambda: make_embedder(embedder, checkpoint), seed)
    result = evaluation.evaluate(docs, qs, rels, methods, scorer, resamples, seed)
    evaluation.write_report(result, report, shipped)
    if as_json:
        print(json.dumps({k: v for k, v in result.items() if k != "per_query"}, indent=2))
        return
    from rich.table import Table

    for group, n in result["groups"].items():
        header, rows = evaluation.table_rows(result, group)
        table = Table(title=f"{group}: {n} queries, {result['n_docs']} documents (mean [95% CI])")
        for h in header:
            table.add_column(h, justify="left" if h == "metric" else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    tests = Table(title=f"paired randomization test, {evaluation.TEST_METRIC}")
    for h in ("group", "a", "b", "mean(a−b)", "p"):
        tests.add_column(h)
    for t in result["tests"]:
        tests.add_row(t["group"], t["a"], t["b"], f"{t['mean_diff']:+.3f}", f"{t['p_value']:.4f}")
    console.print(tests)
    for line in evaluation.limits(result)[2:]:
        console.print(line)
    console.print(f"report: {report.dir / 'report.md'}")


@app.command("make-set")
def make_set(
    source: str = typer.Argument(..., help="An installed package's import name (read, not imported) or a source folder."),
    out: Path = typer.Option(..., "--out", help="Folder for the set: corpus.jsonl, queries.jsonl, qrels.tsv, make_set.json."),
    max_pairs: int = typer.Option(500, "--max", min=1, help="At most this many query-function pairs (a seeded sample)."),
    force: bool = typer.Option(False, "--force", help="Replace a set already in --out."),
) -> None:
    """Build a BEIR code-search set: each documented function's first docstring sentence finds its code."""
    from ..lab import make_set as ms

    ms.check_out(out, force)  # refused before the package is read
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
DbOpt = typer.Option("lab-index", "--db", help="Folder of the Chroma database, or http(s)://HOST:PORT of a "
                     "Chroma server (chroma run --path DIR --host HOST --port PORT).")
ExcludeOpt = typer.Option(
    None, "--exclude", metavar="GLOB",
    help="Leave out matching files or folders (repeat). .gitignore style: * ? and character classes within "
         "a name, ** across folders, a trailing / for folders only, a leading / to anchor at PATH, ! to re-include.",
)
GitignoreOpt = typer.Option(
    True, "--gitignore/--no-gitignore",
    help="Honour PATH/.gitignore, with the same patterns and # comments (only the one at PATH's root).",
)


@app.command()
def index(
    path: Path = typer.Argument(..., help="A folder of Python, JavaScript and SQL code."),
    db: str = DbOpt,
    strategy: str = typer.Option("F", "--strategy", help="Chunking: F function windows (each function and method, "
                                 "cut to what the embedder reads), A functions, B blocks, C 20-line windows, D cAST."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    exclude: list[str] = ExcludeOpt,
    gitignore: bool = GitignoreOpt,
    threads: int = typer.Option(None, "--threads", min=1, help="Torch threads for MiniLM. Default: torch's default "
                                "(the number of cores); on a busy machine fewer can be faster."),
) -> None:
    """Embed a code folder into ChromaDB; re-running touches only files that changed.

    Files that are not text are skipped and code that does not parse is cut into 20-line
    windows, each with a warning. One run at a time writes to a database.
    """
    from rich.progress import Progress

    from ..lab import store
    from ..lab.chunkers import STRATEGIES, check_strategy, code_files
    from ..lab.embedders import check_embedder, make_embedder, set_threads

    # everything that can be refused is refused here, before the model takes seconds to load
    strategy = check_strategy(strategy)
    check_embedder(embedder, checkpoint)
    exclude = list(exclude or ())
    n_files = len(code_files(path, exclude, gitignore))  # an empty or missing folder, a bad pattern
    try:
        with store.writer_lock(db):  # another run writing this --db
            store.check_target(db, path, strategy, embedder, create=True)  # not Chroma; another folder, strategy, embedder
            emb = make_embedder(embedder, checkpoint)
            n_threads = set_threads(threads) if embedder == "minilm" else None  # Ming's cards use no torch
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("indexing", total=n_files)
                stats = store.index_folder(path, db, emb, strategy, progress=lambda rel: progress.advance(task),
                                           exclude=exclude, gitignore=gitignore, warn=_warn)
    except KeyboardInterrupt:
        print("omakase: interrupted; every file finished so far is saved, and chunks are written by id, so "
              "running the same command again resumes where this run stopped", file=sys.stderr)
        raise typer.Exit(130) from None
    console.print(_index_summary(stats, db))
    if stats.lines.total:
        console.print(f"lines seen: {emb.name} reads {100 * stats.lines.share:.1f}% of the {stats.lines.total} "
                      f"non-blank lines in the files indexed (strategy {strategy}, {STRATEGIES[strategy]})"
                      + (f"; torch threads: {n_threads}" if n_threads else ""))
    if stats.truncated:
        console.print(f"{stats.truncated} chunks were longer than {emb.name} reads ({emb.unseen_means}).")


def _warn(line: str) -> None:
    print(f"omakase: warning: {line}", file=sys.stderr)


def _index_summary(stats, db: str) -> str:
    from ..lab.chunkers import WINDOW

    windowed = f" ({stats.files_windowed} in {WINDOW}-line windows: no parse)" if stats.files_windowed else ""
    counts = [f"{stats.files_indexed} indexed{windowed}", f"{stats.files_unchanged} unchanged",
              f"{stats.files_removed} removed"]
    if stats.files_empty:
        counts.append(f"{stats.files_empty} empty")
    if stats.files_unreadable:
        counts.append(f"{stats.files_unreadable} skipped (not readable text)")
    return (f"{stats.files} files: {', '.join(counts)}; {stats.chunks_added} chunks added in {stats.seconds:.1f} s "
            f"({stats.chunks_per_second:.0f} chunks/s); {stats.chunks_total} chunks in {db}")


@app.command()
def search(
    query: list[str] = typer.Argument(
        None, help="Queries, one per argument. None: one per line on standard input, or --interactive at a terminal."),
    k: int = typer.Option(5, "--k", min=1),
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
) -> None:
    """Search an index: `path:line  signature  score` for each of the top k chunks.

    Several queries (arguments, or lines on standard input) share one loaded model; bm25 needs none.
    """
    import json

    from ..lab import search as lab_search
    from ..lab import store
    from ..lab.embedders import check_embedder, make_embedder

    # everything a user can get wrong is refused here, before the model takes seconds to load
    lab_search.check_method(method, check_exact)
    filters = lab_search.check_filters(path, lang, no_tests)
    queries = _queries(query, interactive)  # None: ask line by line
    needs_model = method != "bm25"
    if needs_model:
        check_embedder(embedder, checkpoint)
    store.check_target(db, embedder_name=embedder if needs_model else None)  # a wrong, missing or empty --db
    searcher = lab_search.Searcher(db, lambda: make_embedder(embedder, checkpoint))

    def answer(q: str) -> None:
        a = searcher.search(q, k, method, filters, check_exact)
        print(json.dumps(a.as_json(), ensure_ascii=False) if as_json else "\n".join(a.as_text()), flush=True)

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
    code: Path = typer.Option(None, "--code", help="A code folder. Default: the shipped snippets laid out as files."),
    queries: Path = typer.Option(None, "--queries", help='queries.jsonl: "_id", "text", "relevant": [{"path", "start_line", "end_line"}].'),
    k: int = typer.Option(5, "--k", min=1),
    budget: int = typer.Option(40, "--budget", min=1, help="Fixed context budget in lines."),
    strategies: str = typer.Option("ABCDF", "--strategies", help="Any of A (functions), B (blocks), C (windows), "
                                   "D (cAST), F (function windows)."),
    seed: int = typer.Option(0, "--seed", min=0),
    out: Path = OutOpt("chunking"),
    force: bool = ForceOpt,
) -> None:
    """Experiment 4: compare chunking strategies on span recall, precision, IoU, lines seen and cost."""
    from rich.table import Table

    from ..lab import chunking as exp
    from ..lab.chunkers import STRATEGIES
    from ..lab.embedders import MiniLM

    strategies = strategies.upper()
    if not strategies:
        raise OmakaseError(f"--strategies is empty; give some of {''.join(STRATEGIES)}")
    for s in strategies:
        if s not in STRATEGIES:
            raise OmakaseError(f"unknown chunking strategy {s!r}; choose from {', '.join(STRATEGIES)}")
    if (code is None) != (queries is None):
        raise OmakaseError("give both --code and --queries, or neither for the shipped set")
    span_queries = exp.load_span_queries(queries, code) if code is not None else None
    report = _report(out, force, "chunking")
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
