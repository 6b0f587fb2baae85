"""`omakase lab ...`: the tasting lab (embeddings, similarity, code search), measured offline.

Thin: parse, call omakase.lab, print a rich table. Heavy libraries are imported
inside the commands so `omakase --help` works without the lab extra.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import OmakaseError

app = typer.Typer(help="The tasting lab: embeddings, similarity and semantic code search.", no_args_is_help=True)

EmbedderOpt = typer.Option("minilm", "--embedder", help="minilm (all-MiniLM-L6-v2) or ming (a checkpoint's flavor cards).")
CheckpointOpt = typer.Option(None, "--checkpoint", help="Checkpoint for --embedder ming.")
ForceOpt = typer.Option(False, "--force", help="Overwrite an existing report in --out.")


def _console():
    from rich.console import Console

    return Console()


def _read_items(items: list[str] | None, file: Path | None) -> list[str] | None:
    if file is not None:
        if not file.is_file():
            raise OmakaseError(f"--file {file}: no such file; give a text file with one item per line")
        items = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if items is not None and len(items) < 2:
        raise OmakaseError("give at least two items to compare (--item A --item B, or --file with two lines)")
    return items


@app.command()
def similarity(
    item: list[str] = typer.Option(None, "--item", help="An item to compare (repeat); replaces the built-in sets."),
    file: Path = typer.Option(None, "--file", help="A text file with one item per line."),
    embedder: str = EmbedderOpt,
    checkpoint: Path = CheckpointOpt,
    out: Path = typer.Option(Path("lab-reports/similarity"), "--out"),
    force: bool = ForceOpt,
) -> None:
    """Experiment 1: cosine-similarity heatmaps (words, paraphrases, 'sum' in three languages)."""
    from rich.table import Table

    from ..lab import similarity as exp
    from ..lab.embedders import make_embedder
    from ..lab.report import Report

    items = _read_items(item, file)
    report = Report(out, force)
    emb = make_embedder(embedder, checkpoint)
    sets = {"your-items": items} if items else exp.BUILTIN_SETS
    results = exp.run(emb, report, sets)
    console = _console()
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
    out: Path = typer.Option(Path("lab-reports/metrics"), "--out"),
    force: bool = ForceOpt,
) -> None:
    """Experiment 2: cosine vs Euclidean, from scratch; the unit-vector identity and a counter-example."""
    from rich.table import Table

    from ..lab import cosine_vs_euclid as exp
    from ..lab.embedders import make_embedder
    from ..lab.report import Report

    report = Report(out, force)
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
    console = _console()
    console.print(table)
    console.print(f"report: {report.dir / 'report.md'}")
