"""`omakase eval`, `baseline` and `bench`: honest numbers about how good and how fast Ming is."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .. import checkpoint as ckpt_io
from .. import data as data_io
from .. import train as training
from ..baseline import baseline_losses
from ..engines import make_engine
from ..errors import OmakaseError
from ..tokenizer import Tokenizer
from .common import console, latest_checkpoint


def eval(
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c", help="Checkpoint (default: newest in ./runs)."),
    split: str = typer.Option("val", help="val (the held-out 10%) or train (the 90% trained on)."),
    data: Optional[str] = typer.Option(None, "--data", help="Score every line of this file instead of a split."),
    engine: str = typer.Option("numpy", help="scalar or numpy: the same numbers either way."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A checkpoint's mean loss per predicted character on names it never trained on."""
    path = checkpoint or latest_checkpoint()
    ckpt = ckpt_io.load(path)
    tok = ckpt.tokenizer
    if data is not None:
        file = data_io.resolve(data)
        docs = data_io.read_docs(file)
        what = f"all {len(docs):,} documents of {file}"
        tokens = [tok.encode(d, f"document {i} of {file}; the checkpoint's vocabulary differs")
                  for i, d in enumerate(docs, 1)]
    else:
        if split not in ("val", "train"):
            raise OmakaseError(f"--split is val or train, got {split!r}")
        docs, data_info = training.load_dataset(training.recorded_data(ckpt))
        run = training.resume(ckpt, docs, data_info, engine)
        chosen = run.val_docs if split == "val" else run.train_docs
        if not chosen:
            raise OmakaseError(f"the {split} split is empty (the dataset has {len(docs)} documents)")
        what = f"the {split} split: {len(chosen):,} names"
        tokens = [tok.encode(d) for d in chosen]
    model = make_engine(engine, ckpt)
    columns = [TextColumn("scoring names"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("eval", total=len(tokens))
        loss = training.mean_loss(model, tokens, lambda done, _: progress.update(task, completed=done))
    positions = sum(min(ckpt.config.block_size, len(t) - 1) for t in tokens)
    if as_json:
        print(json.dumps({"checkpoint": str(path), "loss": loss, "documents": len(tokens), "positions": positions}))
        return
    console.print(f"{path}: mean loss {loss:.4f} per predicted character on {what} ({positions:,} predictions); "
                  f"a blindfolded guess scores ln {tok.vocab_size} = {math.log(tok.vocab_size):.4f}")


def baseline(
    data: Optional[str] = typer.Option(None, "--data", help="Text file, one document per line (default: names.txt)."),
    seed: int = typer.Option(42, help="The shuffle seed (42 = the reference's split)."),
    block_size: int = typer.Option(16, help="At most this many predictions per document, as the model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Counting tables to compare Ming with: uniform, unigram and bigram held-out losses."""
    if block_size < 1:
        raise OmakaseError(f"block size must be >= 1, got {block_size}")
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
    repeats: int = typer.Option(5, help="Timed runs per rung; the table shows medians."),
    steps: int = typer.Option(200, help="numpy training steps per rung."),
    scalar_steps: int = typer.Option(20, help="scalar training steps (one document each)."),
) -> None:
    """Time the same training step in each kitchen on this machine: steps/s, tokens/s and ratios."""
    from ..bench import ladder_table, run_ladder

    for name, value in (("repeats", repeats), ("steps", steps), ("scalar-steps", scalar_steps)):
        if value < 1:
            raise OmakaseError(f"--{name} must be >= 1, got {value}")
    columns = [TextColumn("timing the kitchens"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("bench", total=None)
        rows = run_ladder(repeats, steps, scalar_steps,
                          progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(ladder_table(rows, repeats))
