"""`omakase cook`, `score` and `info`: what a trained Ming does and what he is."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .. import checkpoint as ckpt_io
from .. import inference
from ..model import Model
from ..config import block_of, count_params, param_shapes, params_per_block
from ..train import RUNNING_WINDOW
from .common import checkpoint_file, console, engine_option, not_blank, plural, seed_option, temperature_option

CHECKPOINT = typer.Option(None, "--checkpoint", "-c", help="Checkpoint file (default: the newest in ./runs).")
ENGINE = engine_option("numpy")
NAMES_MAX = 10_000  # names per cook (a stream model: 60 characters each)


def load(path: Optional[Path], engine: str = "numpy", data: Optional[str] = None) -> Model:
    return inference.load_with_data(checkpoint_file(path), engine, data)


def cook(
    checkpoint: Optional[Path] = CHECKPOINT,
    n: int = typer.Option(20, "--n", min=1, max=NAMES_MAX, help=f"How many names, 1 to {NAMES_MAX:,} (a stream "
                                                               f"model writes 60 characters per n)."),
    temperature: float = temperature_option(0.5, "Risk dial: 0 = always the most likely course; higher = bolder"),
    seed: Optional[int] = seed_option(None, "Random seed (default: continue the run's own random stream)"),
    prefix: str = typer.Option("", help="Start every name with these courses."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    engine: str = ENGINE,
    data: Optional[str] = typer.Option(None, "--data", callback=not_blank, help="The records, to mark invented names (default: the run's dataset)."),
) -> None:
    """Ming cooks new names, one course at a time; each is marked "from the records" or "invented"."""
    model = load(checkpoint, engine, data)
    if inference.is_stream(model):  # a model of one continuous text writes on: n lines' worth of characters
        text = inference.write(model, 60 * n, temperature, seed, prefix)
        print(json.dumps({"prefix": prefix, "text": text}, ensure_ascii=False) if as_json else prefix + text)
        return
    dishes = inference.cook(model, n, temperature, seed, prefix)
    if as_json:
        print(json.dumps([{"name": d.name, "kind": d.kind} for d in dishes], ensure_ascii=False))
        return
    table = Table(title=f"{plural(n, 'name')} at temperature {temperature}" + (f", starting {prefix!r}" if prefix else ""))
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("kind")
    for i, dish in enumerate(dishes, 1):
        table.add_row(str(i), dish.name or "(empty)", dish.kind)
    console.print(table)
    if inference.records(model) is not None:
        invented = sum(d.kind == inference.INVENTED for d in dishes)
        console.print(f"{invented} of {n} not in the records ({100 * invented / max(n, 1):.0f}%).")
    else:
        console.print("The run's dataset is not on this machine, so names are not checked against the records (pass --data).")


def score(
    names: List[str] = typer.Argument(..., help="Names to score, e.g. emma amme."),
    checkpoint: Optional[Path] = CHECKPOINT,
    engine: str = ENGINE,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """The diner's penalty, course by course: how much probability Ming gave each course of a name."""
    model = load(checkpoint, engine)
    results = inference.score(model, names)
    if as_json:
        print(json.dumps([dataclasses.asdict(r) for r in results], ensure_ascii=False))
        return
    for r in results:
        table = Table(title=f"{r.name!r}: mean loss {r.mean_loss:.4f} over {plural(len(r.courses), 'course')}")
        table.add_column("next course")
        table.add_column("probability", justify="right")
        table.add_column("penalty -ln p", justify="right")
        for c in r.courses:
            table.add_row(c.course, f"{100 * c.p:.2f}%", f"{c.penalty:.3f}")
        console.print(table)


def info(checkpoint: Optional[Path] = CHECKPOINT) -> None:
    """What a checkpoint holds: the dials, parameters per matrix and block, and how far it trained."""
    path = checkpoint_file(checkpoint)
    ckpt = ckpt_io.load(path)
    c = ckpt.config
    console.print(f"[bold]{path}[/]: {plural(c.n_layer, 'layer')}, n_embd {c.n_embd}, n_head {c.n_head}, "
                  f"block_size {c.block_size}, vocabulary {c.vocab_size} ({ckpt.tokenizer.describe()})")
    table = Table(title=f"{count_params(c):,} parameters")
    for col in ("matrix", "shape", "parameters", "block"):
        table.add_column(col, justify="right" if col == "parameters" else "left")
    for name, (rows, cols) in param_shapes(c):
        table.add_row(name, f"{rows} x {cols}", f"{rows * cols:,}", block_of(name))
    console.print(table)
    console.print("per block: " + ", ".join(f"{k} {v:,}" for k, v in params_per_block(c).items())
                  + f" = {count_params(c):,}")
    run = ckpt.run
    if not run.get("losses"):
        console.print("not trained yet")
        return
    losses = run["losses"]
    window = losses[-RUNNING_WINDOW:]
    data = run.get("data") or {}  # the run's fields are checked by ckpt_io.load; older files may lack some
    console.print(f"trained {run.get('step', len(losses)):,} of {run.get('steps', len(losses)):,} planned steps (engine "
                  f"{run.get('engine')}, batch {run.get('batch_size')}, lr {run.get('lr')}, seed {run.get('seed')}) on "
                  f"{data.get('name', 'unrecorded data')} ({plural(data.get('n_docs', 0), 'document')})")
    console.print(f"running mean loss over the last {len(window)} steps: {sum(window) / len(window):.4f}; "
                  f"last step alone: {losses[-1]:.4f}")
    if run.get("val"):
        v = run["val"][-1]
        console.print(f"held-out loss at step {v['step']:,}: {v['loss']:.4f} on {plural(v['n_docs'], 'document')}")
