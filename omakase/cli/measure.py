"""`omakase eval`, `baseline` and `bench`: honest numbers about how good and how fast Ming is."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .. import data as data_io
from .. import inference
from .. import train as training
from ..baseline import baseline_losses
from ..errors import OmakaseError
from ..tokenizer import Tokenizer
from .common import checkpoint_file, console, dry_run_option, engine_option, not_blank, plural, seed_option


def eval(
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c", help="Checkpoint (default: newest in ./runs)."),
    split: str = typer.Option("val", help="val (the held-out 10%) or train (the 90% trained on)."),
    data: Optional[str] = typer.Option(None, "--data", callback=not_blank, help="Split this file as the run split its own data (default: the run's dataset)."),
    engine: str = engine_option("numpy"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A checkpoint's mean loss per predicted token on documents it never trained on."""
    if split not in ("val", "train"):
        raise OmakaseError(f"--split is val or train, got {split!r}")
    path = checkpoint_file(checkpoint)
    model = inference.load_with_data(path, engine, data)
    if model.dataset is None:
        name = (model.run.get("data") or {}).get("name", "its dataset")
        raise OmakaseError(f"the checkpoint was trained on {name}, which is not on this machine unchanged; "
                           f"pass --data with that file")
    columns = [TextColumn("scoring documents"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("eval", total=None)
        result = inference.evaluate(model, split, lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        print(json.dumps({"checkpoint": str(path), **dataclasses.asdict(result)}))
        return
    vocab = model.tokenizer.vocab_size
    console.print(f"{path}: mean loss {result.loss:.4f} per predicted token on the {split} split of "
                  f"{result.data_name}: {plural(result.documents, 'document')} ({result.positions:,} predictions); "
                  f"a blindfolded guess scores ln {vocab} = {math.log(vocab):.4f}", highlight=False)


def baseline(
    data: Optional[str] = typer.Option(None, "--data", callback=not_blank, help="Text file, one document per line (default: names.txt)."),
    seed: int = seed_option(42, "The shuffle seed (42 = the reference's split)"),
    block_size: int = typer.Option(16, min=1, max=65_536, help="At most this many predictions per document, as "
                                                               "the model (1 to 65,536)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Counting tables to compare Ming with: uniform, unigram and bigram held-out losses."""
    docs, info = training.load_dataset(data)
    _, shuffled = training.shuffle(docs, random.Random(seed))
    n_train = data_io.split(len(shuffled))
    if n_train == len(shuffled):
        raise OmakaseError(f"{info['name']} has {len(docs)} documents: too few to hold out 10% (need at least 10)")
    tok = Tokenizer.from_docs(shuffled)
    train_tokens = [tok.encode(d) for d in shuffled[:n_train]]
    val_tokens = [tok.encode(d) for d in shuffled[n_train:]]
    losses = baseline_losses(train_tokens, val_tokens, tok.vocab_size, block_size)
    if as_json:
        print(json.dumps(losses))
        return
    table = Table(title=f"Counting tables on {info['name']}: held-out loss on {len(val_tokens):,} documents "
                        f"(fit on {n_train:,})")
    table.add_column("baseline")
    table.add_column("held-out loss", justify="right")
    table.add_column("what it knows")
    knows = {"uniform": f"nothing: every one of {tok.vocab_size} tokens equally likely (ln {tok.vocab_size})",
             "unigram": "how often each token comes next, whatever came before",
             "bigram": "how often each token follows the one just served (add-one smoothing)"}
    for name, loss in losses.items():
        table.add_row(name, f"{loss:.4f}", knows[name])
    console.print(table)


def bench(
    repeats: int = typer.Option(5, min=1, max=100, help="Timed runs per rung, 1 to 100; the table shows medians."),
    steps: int = typer.Option(200, min=1, max=100_000, help="numpy training steps per rung (1 to 100,000)."),
    scalar_steps: int = typer.Option(20, min=1, max=10_000, help="scalar training steps, one document each "
                                                                 "(1 to 10,000)."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Time the same training step in each kitchen on this machine: steps/s, tokens/s and ratios."""
    from ..bench import ladder_table, run_ladder

    if dry_run:
        console.print("dry run: every option checked; nothing was timed")
        return
    columns = [TextColumn("timing the kitchens"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("bench", total=None)
        rows = run_ladder(repeats, steps, scalar_steps,
                          progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(ladder_table(rows, repeats))
