"""The engine ladder: the same training step, timed in each kitchen.

Used by `omakase bench` and `python benchmarks/engines.py`.

Rungs: the scalar, numpy and torch (float64, when installed) engines at one
document per step (the reference's regime, where a framework's per-call
overhead is most of the time), then numpy and torch with mini-batches. Every rung
trains from the same initial weights on names.txt (seed 42, as the
reference), runs `repeats` times, and reports the median; the ratios compare
rungs measured in the same run. The scalar engine and the numpy engine at one
document per step see the very same documents, so their per-step times compare
like for like. A token is one predicted position.

`run_ladder` returns the rows, so `omakase bench` can print the same table.
"""

from __future__ import annotations

import random
import statistics
import time

from rich.table import Table

from omakase import data
from omakase.adam import Adam
from omakase.config import GPTConfig, init_params
from omakase.engines import engine_class, make_engine
from omakase.errors import OmakaseError
from omakase.tokenizer import Tokenizer


def names_setup():
    """The reference's shuffled, encoded names and its initial weights."""
    rng = random.Random(42)
    docs = data.read_docs(data.resolve(None))
    rng.shuffle(docs)
    tok = Tokenizer.from_docs(docs)
    config = GPTConfig(vocab_size=tok.vocab_size)
    params = init_params(config, rng)
    train = [tok.encode(doc) for doc in docs[: data.split(len(docs))]]
    return config, params, train


def time_training(engine_name: str, config, params, batches: list[list[list[int]]]) -> float:
    """Seconds for one training step (loss, gradients, Adam) per batch, from fresh weights."""
    engine = make_engine(engine_name, config, params)
    adam = Adam()
    engine.loss_and_grads(batches[0])  # warm up: first-call costs are not a step's cost
    engine.update(adam, 0.0, 1)
    start = time.perf_counter()
    for step, batch in enumerate(batches):
        engine.loss_and_grads(batch)
        engine.update(adam, 0.01 * (1 - step / 1000), step + 2)
    return time.perf_counter() - start


def _installed(engine: str) -> bool:
    try:
        engine_class(engine)
    except OmakaseError:
        return False
    return True


def run_ladder(repeats: int = 5, steps: int = 200, scalar_steps: int = 20, batch_sizes=(8, 32), progress=None):
    """Time every rung `repeats` times; returns one dict per rung (medians).

    The scalar engine takes `scalar_steps` single-document steps; the numpy
    engine cycles through the same documents for `steps` steps, and takes
    `steps` steps of each mini-batch size. `progress(done, total)` is called
    after every timed run.
    """
    config, params, train = names_setup()
    pool = train[:scalar_steps]
    rungs = [("scalar", 1, [[pool[i]] for i in range(scalar_steps)])]
    engines = ["numpy"] + (["torch"] if _installed("torch") else [])
    single = [[pool[i % scalar_steps]] for i in range(steps)]
    rungs += [(name, 1, single) for name in engines]  # torch: at one tiny name per step, overhead is most of the time
    for size in batch_sizes:
        batched = [train[(i * size) % len(train) :][:size] for i in range(steps)]
        rungs += [(name, size, batched) for name in engines]
    total, done, rows = repeats * len(rungs), 0, []
    for engine_name, size, batches in rungs:
        tokens = sum(min(len(doc) - 1, config.block_size) for batch in batches for doc in batch)
        seconds = []
        for _ in range(repeats):
            seconds.append(time_training(engine_name, config, params, batches))
            done += 1
            if progress:
                progress(done, total)
        median = statistics.median(seconds)
        rows.append(
            {
                "engine": engine_name,
                "batch": size,
                "ms_per_step": 1000 * median / len(batches),
                "steps_per_s": len(batches) / median,
                "tokens_per_s": tokens / median,
            }
        )
    scalar = rows[0]
    for row in rows:
        row["tokens_vs_scalar"] = row["tokens_per_s"] / scalar["tokens_per_s"]
        row["step_vs_scalar"] = scalar["ms_per_step"] / row["ms_per_step"] if row["batch"] == 1 else None
    return rows


def ladder_table(rows, repeats: int) -> Table:
    table = Table(title=f"The engine ladder: one training step on names.txt, median of {repeats}")
    for column in ("engine", "docs/step", "ms/step", "steps/s", "tokens/s", "step × scalar", "tokens/s × scalar"):
        table.add_column(column, justify="left" if column == "engine" else "right")
    for row in rows:
        step_ratio = row["step_vs_scalar"]
        table.add_row(
            row["engine"],
            str(row["batch"]),
            f"{row['ms_per_step']:.3f}",
            f"{row['steps_per_s']:,.0f}",
            f"{row['tokens_per_s']:,.0f}",
            "" if step_ratio is None else f"{step_ratio:,.0f}×",
            f"{row['tokens_vs_scalar']:,.0f}×",
        )
    return table
