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
from .common import checkpoint_file, console, dry_run_option, remove_if_empty, writable_folder

HACKS = ("memory", "kv", "batch", "quantize", "prune", "onnx", "speculate", "drift")
REPEATS_MAX = 1000
CORES = os.cpu_count() or 1
REPORTS = Path("service-reports")


def service(
    hack: str = typer.Argument("all", help=f"One of: {', '.join(HACKS)}, or all."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c", help="The model to serve (default: the newest in ./runs)."),
    draft: Optional[Path] = typer.Option(None, "--draft", help="A small model with the same vocabulary, for speculate (default: `all` trains one)."),
    new_docs: Optional[Path] = typer.Option(None, "--new-docs", help="drift: a file of new documents (default: the records read backwards)."),
    repeats: int = typer.Option(5, min=1, max=REPEATS_MAX, help=f"Timed runs per measurement, 1 to {REPEATS_MAX:,}; "
                                                                 f"tables show medians."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, max=CORES,
                                          help=f"PyTorch's CPU threads, 1 to this machine's {CORES} cores "
                                               f"(default: its own choice, one per core)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Report folder. Default: a new service-reports/HACK-001, -002, ..."),
    force: bool = typer.Option(False, "--force", help="Write into a report folder that already holds a report."),
    as_json: bool = typer.Option(False, "--json", help="Print the measurements as JSON instead of tables."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Measure the efficiency hacks (KV cache, batching, INT8, pruning, ONNX, speculative decoding, drift)
    on a trained Ming: speed beside quality, medians of repeats, the machine stated."""
    if hack != "all" and hack not in HACKS:
        raise OmakaseError(f"unknown hack {hack!r}; choose one of: {', '.join(HACKS)}, all")
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


def _measure(hack, served, report, draft, new_docs, repeats, as_json) -> None:
    chosen = HACKS if hack == "all" else (hack,)
    results = []
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
        for name in chosen:
            task = progress.add_task(name, total=None)
            tick = lambda done, total, what, task=task, name=name: progress.update(  # noqa: E731
                task, completed=done, total=total, description=f"{name}: {what}")
            measured = _run(name, served, report, draft, new_docs, repeats, tick, skip_missing=hack == "all")
            progress.remove_task(task)
            if measured is None:
                continue
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
    measured, reopened = drift.measure(served, new_docs, progress=tick)
    from .. import checkpoint as ckpt_io

    ckpt_io.save(reopened, report.dir / "reopened.json")
    measured.notes.append("The kitchen reopens with reopened.json, in the report's folder.")
    return measured


def _save(report, m) -> None:
    from ..serving.figure import draw

    report.add(f"## {m.title}", "")
    report.table(m.columns, [[cell(v) for v in row] for row in m.rows])
    report.add(*m.notes, "", "Setup: " + ", ".join(f"{k} {v}" for k, v in m.setup.items()), "")
    report.csv(f"{m.hack}.csv", m.columns, m.rows)
    report.json(f"{m.hack}.json", m.to_json())
    if m.plot is not None:
        report.figure(draw(m), f"{m.hack}.png", m.title)


def _print(m) -> None:
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

