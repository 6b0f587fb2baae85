"""The ladder, measured: where Ming stands between a blindfolded guess and a bigger apprentice.

    python benchmarks/ladder.py [--write-readme]

Rungs, all scored on the same held-out 10% of names.txt (3,203 names after the
seed-42 shuffle), as mean loss per predicted character:
  uniform, unigram and bigram counting tables (add-one smoothing);
  Ming (4,192 parameters) after the reference's 1,000 one-name steps;
  Ming (4,192) trained with mini-batches long enough for the held-out loss to plateau;
  bigger Ming (the `--preset bigger` dials, ~200K parameters).
Each row also gives the parameters, the training time on this machine and five
names cooked at temperature 0.5. A model cooks from the random stream it was left
with after training, as the reference does (so the first model row shows the
reference's own names); a counting table draws with seed 42. With --write-readme
the table replaces the one between the ladder markers in README.md.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402

from omakase import train as training  # noqa: E402
from omakase.baseline import bigram_probs, unigram_probs, uniform_loss, mean_nll  # noqa: E402
from omakase.config import MODEL_DIALS, PRESETS  # noqa: E402
from omakase.config import count_params  # noqa: E402
from omakase.sample import cook  # noqa: E402

N_NAMES = 5
# Ming 4,192 with mini-batches: 32 names a step, the reference's learning rate, a plan long enough
# to reach the plateau (measured: held-out 2.134 after 3,000 steps, 2.094 after 12,000, 2.091 after 24,000).
CONVERGED = dict(steps=20000, lr=0.01, batch_size=32, warmup=100)
TEMPERATURE = 0.5


class CountingTable:
    """A counting table with the engine's cooking interface, so `cook` draws its names as it does Ming's.

    Its logits are log-probabilities, so the temperature reshapes them exactly as it does a model's vote.
    """

    def __init__(self, probs_after, block_size: int):
        self.probs_after = probs_after  # prev token -> next-token probabilities
        self.config = SimpleNamespace(block_size=block_size)

    def new_cache(self, batch: int = 1):
        return None  # a table looks only at the token just served

    def logits_cached(self, cache, rows: list[list[int]], pos: int, every: bool = False) -> list:
        after = lambda token: [math.log(p) for p in self.probs_after(token)]  # noqa: E731
        return [[after(t) for t in row] if every else after(row[-1]) for row in rows]


def train_rung(docs, info, plan: training.Plan, dials: dict, progress, label: str) -> dict:
    run = training.start(docs, info, plan, "numpy", **dials)
    task = progress.add_task(label, total=plan.steps)
    start = time.perf_counter()
    while run.step < plan.steps:
        run.train_step()
        progress.update(task, completed=run.step)
    seconds = time.perf_counter() - start
    val = run.validate()
    return {"rung": label, "loss": val["loss"], "params": count_params(run.config), "seconds": seconds,
            "names": cook(run.engine, run.tokenizer, run.rng(), N_NAMES, TEMPERATURE)}


def measure() -> list[dict]:
    docs, info = training.load_dataset(None)
    base = training.start(docs, info, training.Plan(), "numpy")  # for the split and tokenizer only
    tok, bs = base.tokenizer, base.config.block_size
    train_tokens = [tok.encode(d) for d in base.train_docs]
    val_tokens = [tok.encode(d) for d in base.val_docs]
    unigram = unigram_probs(train_tokens, tok.vocab_size, bs)
    bigram = bigram_probs(train_tokens, tok.vocab_size, bs)
    rng = random.Random(42)

    def table_names(probs_after) -> list[str]:
        return cook(CountingTable(probs_after, bs), tok, rng, N_NAMES, TEMPERATURE)

    rows = [
        {"rung": "uniform guess", "loss": uniform_loss(tok.vocab_size), "params": 0, "seconds": 0.0,
         "names": table_names(lambda prev: [1 / tok.vocab_size] * tok.vocab_size)},
        {"rung": "unigram table", "loss": mean_nll(val_tokens, lambda p, n: unigram[n], bs),
         "params": tok.vocab_size, "seconds": 0.0, "names": table_names(lambda prev: unigram)},
        {"rung": "bigram table", "loss": mean_nll(val_tokens, lambda p, n: bigram[p][n], bs),
         "params": tok.vocab_size**2, "seconds": 0.0, "names": table_names(lambda prev: bigram[prev])},
    ]
    preset = PRESETS["bigger"]
    bigger = {k: preset[k] for k in MODEL_DIALS}
    bigger_plan = training.Plan(preset["steps"], preset["lr"], preset["batch_size"], preset["warmup"])
    small = dict(n_layer=1, n_embd=16, n_head=4, block_size=16)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        rows.append(train_rung(docs, info, training.Plan(), small, progress,
                               "Ming 4,192, the reference's 1,000 steps"))
        rows.append(train_rung(docs, info, training.Plan(**CONVERGED), small, progress,
                               f"Ming 4,192, {CONVERGED['steps']:,} steps of {CONVERGED['batch_size']} names"))
        rows.append(train_rung(docs, info, bigger_plan, bigger, progress, "bigger Ming (--preset bigger)"))
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [f"| rung | held-out loss | parameters | training time | five names (temperature {TEMPERATURE}) |",
             "| --- | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['rung']} | {r['loss']:.4f} | {r['params']:,} | "
                     + (f"{r['seconds']:.1f} s" if r["seconds"] else "—") + f" | {', '.join(name or '(empty)' for name in r['names'])} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-readme", action="store_true", help="replace the ladder table in README.md")
    args = ap.parse_args()
    table = markdown(measure())
    print(table)
    if args.write_readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        new, n = re.subn(r"(<!-- ladder:start -->\n).*?(\n<!-- ladder:end -->)", lambda m: m[1] + table + m[2],
                         text, flags=re.S)
        if n != 1:
            raise SystemExit("README.md has no <!-- ladder:start --> ... <!-- ladder:end --> markers")
        readme.write_text(new)


if __name__ == "__main__":
    main()
