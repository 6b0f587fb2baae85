"""`omakase cook`, `score` and `info`: what a trained Ming does and what he is."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .. import checkpoint as ckpt_io
from .. import data as data_io
from ..config import block_of, count_params, param_shapes, params_per_block
from ..engines import make_engine
from ..errors import OmakaseError
from ..sample import cook as cook_names
from ..sample import course_probabilities
from ..train import RUNNING_WINDOW, recorded_data
from .common import console, latest_checkpoint

CHECKPOINT = typer.Option(None, "--checkpoint", "-c", help="Checkpoint file (default: the newest in ./runs).")
ENGINE = typer.Option("numpy", help="scalar or numpy: the same numbers either way.")


def _load(path: Optional[Path]) -> tuple[ckpt_io.Checkpoint, Path]:
    path = path or latest_checkpoint()
    return ckpt_io.load(path), path


def records_of(ckpt: ckpt_io.Checkpoint, data: Optional[str]) -> set[str] | None:
    """The documents the checkpoint was trained on, if that dataset is on this machine."""
    info = ckpt.run.get("data") or {}
    try:
        path = data_io.resolve(data or recorded_data(ckpt), info.get("name", data_io.DEFAULT))
    except OmakaseError:
        return None
    if info.get("sha256") and data_io.sha256_of(path) != info["sha256"]:
        return None
    return set(data_io.read_docs(path))


def cook(
    checkpoint: Optional[Path] = CHECKPOINT,
    n: int = typer.Option(20, "--n", help="How many names."),
    temperature: float = typer.Option(0.5, help="Risk dial: 0 = always the most likely course; higher = bolder."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: continue the run's own random stream)."),
    prefix: str = typer.Option("", help="Start every name with these courses."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    engine: str = ENGINE,
    data: Optional[str] = typer.Option(None, "--data", help="The records, to mark invented names (default: the run's dataset)."),
) -> None:
    """Ming cooks new names, one course at a time; each is marked "from the records" or "invented"."""
    ckpt, _ = _load(checkpoint)
    if seed is not None:
        rng = random.Random(seed)
    elif "random_state" in ckpt.run:
        s = ckpt.run["random_state"]
        rng = random.Random()
        rng.setstate((s[0], tuple(s[1]), s[2]))
    else:
        rng = random.Random(42)
    names = cook_names(make_engine(engine, ckpt), ckpt.tokenizer, rng, n, temperature, prefix)
    records = records_of(ckpt, data)
    kinds = ["unknown" if records is None else "from the records" if name in records else "invented" for name in names]
    if as_json:
        print(json.dumps([{"name": a, "kind": k} for a, k in zip(names, kinds)], ensure_ascii=False))
        return
    table = Table(title=f"{n} names at temperature {temperature}" + (f", starting {prefix!r}" if prefix else ""))
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("kind")
    for i, (name, kind) in enumerate(zip(names, kinds), 1):
        table.add_row(str(i), name or "(empty: the bell came first)", kind)
    console.print(table)
    if records is not None:
        invented = kinds.count("invented")
        console.print(f"{invented} of {n} invented ({100 * invented / max(n, 1):.0f}%): plausible dishes that never existed.")
    else:
        console.print("The run's dataset is not on this machine, so names are not checked against the records (pass --data).")


def score(
    names: List[str] = typer.Argument(..., help="Names to score, e.g. emma amme."),
    checkpoint: Optional[Path] = CHECKPOINT,
    engine: str = ENGINE,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """The diner's penalty, course by course: how much probability Ming gave each course of a name."""
    ckpt, _ = _load(checkpoint)
    model = make_engine(engine, ckpt)
    results = []
    for name in names:
        courses = course_probabilities(model, ckpt.tokenizer, name)
        mean = sum(-math.log(p) for _, p in courses) / len(courses)
        results.append({"name": name, "courses": [{"course": c, "p": p, "penalty": -math.log(p)} for c, p in courses],
                        "mean_loss": mean})
    if as_json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for r in results:
        table = Table(title=f"{r['name']!r}: mean loss {r['mean_loss']:.4f} over {len(r['courses'])} courses")
        table.add_column("next course")
        table.add_column("probability", justify="right")
        table.add_column("penalty -ln p", justify="right")
        for c in r["courses"]:
            table.add_row(c["course"], f"{100 * c['p']:.2f}%", f"{c['penalty']:.3f}")
        console.print(table)


def info(checkpoint: Optional[Path] = CHECKPOINT) -> None:
    """What a checkpoint holds: the dials, parameters per matrix and block, and how far it trained."""
    ckpt, path = _load(checkpoint)
    c = ckpt.config
    console.print(f"[bold]{path}[/]: {c.n_layer} layer(s), n_embd {c.n_embd}, n_head {c.n_head}, "
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
    console.print(f"trained {run['step']:,} of {run['steps']:,} planned steps (engine {run.get('engine')}, "
                  f"batch {run.get('batch_size')}, lr {run.get('lr')}, seed {run.get('seed')}) on "
                  f"{run['data']['name']} ({run['data']['n_docs']:,} documents)")
    console.print(f"running mean loss over the last {len(window)} steps: {sum(window) / len(window):.4f}; "
                  f"last step alone: {losses[-1]:.4f}")
    if run.get("val"):
        v = run["val"][-1]
        console.print(f"held-out loss at step {v['step']:,}: {v['loss']:.4f} on {v['n_docs']:,} names")
