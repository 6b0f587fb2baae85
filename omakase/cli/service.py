"""`omakase service`: the restaurant's efficiency hacks, each measured on a trained Ming.

Thin: check the inputs, call omakase.serving, print a table per hack, and save
its rows (CSV, JSON), its figure and one report.md in the report folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..errors import OmakaseError
from ..serving.measured import cell
from ..timing import load_average, load_lines
from .common import checkpoint_file, console, dry_run_option, not_blank, remove_if_empty, writable_folder

HACKS = ("memory", "kv", "batch", "quantize", "prune", "onnx", "speculate", "drafts", "drift")
SWEEP = "sweep"  # random weights, no checkpoint: not part of `all`
REPEATS_MAX = 1000
MAX_PARAMS = 100_000_000  # serving.sweep.MAX_PARAMS (not imported here: the CLI loads without PyTorch)
MAX_CONTEXT = 1024
MAX_CONTEXTS = 8
CORES = os.cpu_count() or 1
REPORTS = Path("service-reports")


def service(
    hack: str = typer.Argument("all", help=f"One of: {', '.join(HACKS)}, or all; or {SWEEP} (random weights, "
                                           f"no checkpoint: where the KV cache and INT8 start to pay)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c", help="The model to serve (default: the newest in ./runs)."),
    draft: Optional[Path] = typer.Option(None, "--draft", help="A small model with the same vocabulary, for speculate and drafts (default: `all` trains one)."),
    new_docs: Optional[Path] = typer.Option(None, "--new-docs", help="drift: a file of new documents (default: the records read backwards)."),
    repeats: int = typer.Option(5, min=1, max=REPEATS_MAX, help=f"Timed runs per measurement, 1 to {REPEATS_MAX:,}; "
                                                                 f"tables show medians."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, max=CORES,
                                          help=f"PyTorch's CPU threads, 1 to this machine's {CORES} cores "
                                               f"(default: its own choice, one per core)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Report folder. Default: a new service-reports/HACK-001, -002, ..."),
    force: bool = typer.Option(False, "--force", help="Write into a report folder that already holds a report."),
    as_json: bool = typer.Option(False, "--json", help="Print the measurements as JSON instead of tables."),
    max_params: Optional[int] = typer.Option(None, "--max-params", min=1, max=MAX_PARAMS,
                                             help=f"sweep: the largest size to time, in parameters, 1 to "
                                                  f"{MAX_PARAMS:,} (default: every size, up to 92 M)."),
    contexts: Optional[str] = typer.Option(None, "--contexts", callback=not_blank,
                                           help=f"sweep: context lengths, comma-separated, each 1 to {MAX_CONTEXT:,}, "
                                                f"at most {MAX_CONTEXTS} (default: 64,256,1024)."),
    quick: bool = typer.Option(False, "--quick", help="sweep: two toy sizes and short contexts (seconds)."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Measure the efficiency hacks (KV cache, batching, INT8, pruning, ONNX, speculative decoding, what a
    draft may cost, drift) on a trained Ming: speed beside quality, medians of repeats, the machine and its
    load stated. `service sweep` times the KV cache and INT8 on random-weight GPTs up to 92 M parameters."""
    if hack == SWEEP:
        for flag, path in (("--checkpoint", checkpoint), ("--draft", draft), ("--new-docs", new_docs)):
            if path is not None:
                raise OmakaseError(f"{flag}: the {SWEEP} times random-weight models and reads no file; leave it out")
        return _sweep(max_params, _contexts(contexts), quick, repeats, threads, out, force, as_json, dry_run)
    if hack != "all" and hack not in HACKS:
        raise OmakaseError(f"unknown hack {hack!r}; choose one of: {', '.join(HACKS)}, all, {SWEEP}")
    for flag, given in (("--max-params", max_params), ("--contexts", contexts), ("--quick", quick or None)):
        if given is not None:
            raise OmakaseError(f"{flag} is for `omakase service {SWEEP}` only; leave it out for {hack}")
    for flag, path in (("--checkpoint", checkpoint), ("--draft", draft), ("--new-docs", new_docs)):
        if path is not None and not path.is_file():
            raise OmakaseError(f"{flag} {path}: no such file")
    try:
        from ..serving import frozen
    except ImportError:
        raise OmakaseError('omakase service needs PyTorch: install its CPU build first (see the README), then '
                           'from the checkout: pip install -e ".[service]"') from None
    from ..report_folder import Report, next_report_dir

    if out is not None:
        writable_folder(out, f"--out {out}")
        if (out / "report.md").exists() and not force:
            raise OmakaseError(f"{out}/report.md already exists; pass --force to overwrite it or choose another --out")
    checkpoint = checkpoint_file(checkpoint)
    served = frozen.laminate(checkpoint, "float32")
    if not frozen.held_out(served):
        raise OmakaseError(f"the data {checkpoint} was trained on is not on this machine unchanged; "
                           f"the hacks measure quality on its held-out documents")
    if dry_run:
        console.print(f"dry run: every option checked and {checkpoint} loaded; nothing was measured or written",
                      highlight=False)
        return
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    report = Report(out if out is not None else next_report_dir(hack, REPORTS), force)
    try:
        _measure(hack, served, report, draft, new_docs, repeats, as_json)
    except BaseException:
        remove_if_empty(report.dir)  # a run that failed before its first result leaves no empty folder
        raise


def _contexts(text: str | None) -> list[int] | None:
    """--contexts "64,256,1024" as numbers, each in 1..MAX_CONTEXT; None when not given."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= MAX_CONTEXTS:
        raise OmakaseError(f"--contexts {text!r}: give 1 to {MAX_CONTEXTS} whole numbers separated by commas, "
                           f"e.g. 64,256,1024")
    numbers = [int(p) for p in parts]
    if not all(1 <= n <= MAX_CONTEXT for n in numbers):
        raise OmakaseError(f"--contexts {text!r}: each context must be 1 to {MAX_CONTEXT:,} tokens")
    return numbers


def _sweep(max_params, contexts, quick, repeats, threads, out, force, as_json, dry_run) -> None:
    """`service sweep`: random-weight GPTs of several sizes, no checkpoint."""
    try:
        from ..serving import sweep
    except ImportError:
        raise OmakaseError('omakase service sweep needs PyTorch: install its CPU build first (see the README), then '
                           'from the checkout: pip install -e ".[service]"') from None
    from ..report_folder import Report, next_report_dir

    limit = max_params if max_params is not None else sweep.MAX_PARAMS
    sizes = sweep.configs(limit, sweep.QUICK_SIZES if quick else sweep.SIZES,
                          sweep.QUICK_VOCAB if quick else sweep.VOCAB,
                          max(contexts or (sweep.QUICK_CONTEXTS if quick else sweep.CONTEXTS)))
    if out is not None:
        writable_folder(out, f"--out {out}")
        if (out / "report.md").exists() and not force:
            raise OmakaseError(f"{out}/report.md already exists; pass --force to overwrite it or choose another --out")
    if dry_run:
        from ..config import count_params

        console.print(f"dry run: every option checked; the sweep would time {len(sizes)} sizes ("
                      + ", ".join(f"{count_params(c):,}" for c in sizes) + " parameters); nothing was measured "
                      "or written", highlight=False)
        return
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    report = Report(out if out is not None else next_report_dir(SWEEP, REPORTS), force)
    try:
        _timed(SWEEP, report, as_json, lambda tick: sweep.measure(limit, contexts, repeats, quick, progress=tick))
    except BaseException:
        remove_if_empty(report.dir)
        raise


def _timed(name, report, as_json, run) -> None:
    """One measurement with a progress bar, the machine's load before and after, saved and printed."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task(name, total=None)
        start = load_average()
        measured = run(lambda done, total, what: progress.update(task, completed=done, total=total,
                                                                  description=f"{name}: {what}"))
        measured.setup.update(load_start=start, load_end=load_average())
    _save(report, measured)
    report.json("all.json", [measured.to_json()])
    path = report.write()
    if as_json:
        print(json.dumps([measured.to_json()], ensure_ascii=False))
    else:
        _print(measured)
        console.print(f"report: {path}")


def _measure(hack, served, report, draft, new_docs, repeats, as_json) -> None:
    chosen = HACKS if hack == "all" else (hack,)
    results = []
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
        for name in chosen:
            task = progress.add_task(name, total=None)
            tick = lambda done, total, what, task=task, name=name: progress.update(  # noqa: E731
                task, completed=done, total=total, description=f"{name}: {what}")
            start = load_average()
            measured = _run(name, served, report, draft, new_docs, repeats, tick, skip_missing=hack == "all")
            progress.remove_task(task)
            if measured is None:
                continue
            measured.setup.update(load_start=start, load_end=load_average())
            results.append(measured)
            _save(report, measured)
            if not as_json:
                _print(measured)
    report.json("all.json", [m.to_json() for m in results])
    path = report.write()
    if as_json:
        print(json.dumps([m.to_json() for m in results], ensure_ascii=False))
    else:
        console.print(f"report: {path}")


def _run(name, served, report, draft, new_docs, repeats, tick, skip_missing):
    """One hack's measurement (None when it is skipped, with the line saying why)."""
    from ..serving import batch, drift, kv, memory, prune, quantize

    if name == "memory":
        return memory.measure(served, progress=tick)
    if name == "kv":
        return kv.measure(served, repeats=repeats, progress=tick)
    if name == "batch":
        return batch.measure(served, repeats=repeats, progress=tick)
    if name == "quantize":
        return quantize.measure(served, repeats=repeats, progress=tick)
    if name == "prune":
        return prune.measure(served, repeats=repeats, progress=tick)
    if name == "onnx":
        try:
            from ..serving import onnx_run

            return onnx_run.measure(served, repeats=repeats, progress=tick, folder=report.dir)
        except OmakaseError as e:
            if not skip_missing:
                raise
            console.print(f"onnx skipped: {e}")
            return None
    if name == "speculate":
        from ..serving import frozen, speculate
        from ..serving.draft import train_draft

        if draft is None:
            if not skip_missing:
                raise OmakaseError("speculate needs a small model to draft: --draft CKPT (same data, same vocabulary)")
            draft = train_draft(served.path, report.dir / "draft.json", progress=tick)
            console.print(f"speculate: trained a draft (1 layer, 16 wide) on the same data: {draft}")
        return speculate.measure(served, frozen.laminate(draft, "float32"), repeats=repeats, progress=tick)
    if name == "drafts":
        from ..serving import draft_cost, frozen

        trained = report.dir / "draft.json"  # `all` trained one for speculate
        draft = draft if draft is not None else trained if trained.is_file() else None
        return draft_cost.measure(served, frozen.laminate(draft, "float32") if draft else None, repeats=repeats,
                                  progress=tick)
    measured, reopened = drift.measure(served, new_docs, progress=tick)
    from .. import checkpoint as ckpt_io

    ckpt_io.save(reopened, report.dir / "reopened.json")
    measured.notes.append("The kitchen reopens with reopened.json, in the report's folder.")
    return measured


def _save(report, m) -> None:
    from ..serving.figure import draw

    report.add(f"## {m.title}", "", *_context(m), "")
    report.table(m.columns, [[cell(v) for v in row] for row in m.rows])
    report.add(*m.notes, "", "Setup: " + ", ".join(f"{k} {v}" for k, v in m.setup.items()), "")
    report.csv(f"{m.hack}.csv", m.columns, m.rows)
    report.json(f"{m.hack}.json", m.to_json())
    if m.plot is not None:
        report.figure(draw(m), f"{m.hack}.png", m.caption or m.title)


def _context(m) -> list[str]:
    """The lines above a table: the machine, and its load while the table was measured (a warning when busy)."""
    s = m.setup
    lines = []
    if "cpu" in s:
        lines.append(f"machine: {s['cpu']}, {s['cores']} cores, {s['torch_threads']} PyTorch threads, "
                     f"PyTorch {s['torch']}")
    if "load_start" in s:
        lines += load_lines(s["load_start"], s["load_end"])
    return lines


def _print(m) -> None:
    for line in _context(m):
        console.print(line, highlight=False, style="bold red" if line.startswith("warning") else None)
    table = Table(title=m.title, title_justify="left")
    for c in m.columns:
        table.add_column(c, justify="left" if isinstance(m.rows[0][m.columns.index(c)], str) else "right",
                         overflow="fold")
    for row in m.rows:
        table.add_row(*(cell(v) for v in row))
    console.print(table)
    for line in m.notes:
        console.print(line)
    console.print()

