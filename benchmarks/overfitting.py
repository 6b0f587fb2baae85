"""The overfitting experiment: bigger Ming studies a small slice of the records for too long.

    python benchmarks/overfitting.py [--names 1000] [--steps 4000] [--out docs/michelin]

Bigger Ming (4 layers, 64 wide, ~200K dials) trains on the first --names names of names.txt
(90% to study, the last 10% after the seeded shuffle held out, as always) with the torch engine,
four times from the same start: with no habit, with dropout 0.2 ("burners off at random"), with
AdamW weight decay 0.1 ("a fine for too much butter"), and with both. Every 100 steps it records
the running mean of the training loss and the loss on every held-out name. Writes
overfitting.csv, overfitting.png/.svg (train and held-out curves) and prints a table: the lowest
held-out loss and where it was, the final held-out loss, and the final training loss.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

from rich.progress import Progress

from omakase import data
from omakase import train as training
from omakase.config import MODEL_DIALS, PRESETS

VARIANTS = {"no habit": {}, "dropout 0.2": {"dropout": 0.2}, "weight decay 0.1": {"weight_decay": 0.1},
            "both": {"dropout": 0.2, "weight_decay": 0.1}}
EVERY = 100


def run_variant(docs, info, steps: int, habits: dict, progress, label: str) -> list[dict]:
    preset = PRESETS["bigger"]
    plan = training.Plan(steps=steps, lr=preset["lr"], batch_size=preset["batch_size"], warmup=preset["warmup"],
                         **habits)
    run = training.start(docs, info, plan, "torch", *(preset[k] for k in MODEL_DIALS),
                         engine_options={"dtype": "float32", "device": "cpu"})
    task = progress.add_task(label, total=steps)
    rows = []
    while run.step < steps:
        run.train_step()
        if run.step % EVERY == 0:
            rows.append({"variant": label, "step": run.step, "epochs": run.epochs, "train": run.running_mean(),
                         "held_out": run.validate()["loss"]})
        progress.update(task, completed=run.step)
    return rows


def draw(rows: list[dict], out: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5))
    axes = fig.subplots(1, len(VARIANTS), sharey=True)
    for ax, label in zip(axes, VARIANTS):
        mine = [r for r in rows if r["variant"] == label]
        ax.plot([r["step"] for r in mine], [r["train"] for r in mine], color="#0072B2", label="training (running mean)")
        ax.plot([r["step"] for r in mine], [r["held_out"] for r in mine], color="#D55E00", label="held-out")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("step")
    axes[0].set_ylabel("loss per character")
    axes[0].legend(fontsize=8)
    fig.suptitle("Bigger Ming on a small slice of the records: training loss keeps falling, held-out loss turns up")
    fig.tight_layout()
    for suffix in ("png", "svg"):
        fig.savefig(out / f"overfitting.{suffix}", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--out", type=Path, default=Path("docs/michelin"))
    args = parser.parse_args()
    names = data.read_docs(data.resolve(None))[: args.names]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"names-first-{args.names}.txt"
        path.write_text("\n".join(names) + "\n")
        docs, info = training.load_dataset(str(path))
        rows = []
        with Progress() as progress:
            for label, habits in VARIANTS.items():
                rows += run_variant(docs, info, args.steps, habits, progress, label)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "overfitting.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    draw(rows, args.out)
    n_train = data.split(args.names)
    print(f"bigger Ming, {args.steps:,} steps of 32 names on {n_train:,} training names "
          f"({rows[-1]['epochs']:.0f} epochs); held-out: {args.names - n_train} names")
    print("| habits | lowest held-out loss (step) | final held-out loss | final training loss (running mean) |")
    print("| --- | ---: | ---: | ---: |")
    for label in VARIANTS:
        mine = [r for r in rows if r["variant"] == label]
        best = min(mine, key=lambda r: r["held_out"])
        print(f"| {label} | {best['held_out']:.4f} ({best['step']:,}) | {mine[-1]['held_out']:.4f} | "
              f"{mine[-1]['train']:.4f} |")


if __name__ == "__main__":
    main()
