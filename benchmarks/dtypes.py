"""How far from exact: the reference's 1,000 steps on the torch engine in float64, float32 and bfloat16.

    python benchmarks/dtypes.py

Each dtype trains the reference run (seed 42, names.txt, one name per step) from the same
initial dials; the table gives the final step's loss, the running mean of the last 100 steps,
the held-out loss on every held-out name, and each one's gap to float64 (which equals the
reference to 4 decimals). Speed is not measured here: benchmarks/compile.py and
benchmarks/shakespeare.py time the bigger models.
"""

from __future__ import annotations

from omakase import train as training

DTYPES = ("float64", "float32", "bfloat16")


def main() -> None:
    docs, info = training.load_dataset(None)
    rows = {}
    for dtype in DTYPES:
        run = training.start(docs, info, training.Plan(), "torch", engine_options={"dtype": dtype, "device": "cpu"})
        while run.step < run.plan.steps:
            run.train_step()
        rows[dtype] = {"last": run.losses[-1], "mean": run.running_mean(), "held_out": run.validate()["loss"]}
    exact = rows["float64"]
    print("| dtype | step 1,000 loss | running mean (last 100) | held-out loss (3,203 names) | "
          "held-out gap to float64 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for dtype, r in rows.items():
        print(f"| {dtype} | {r['last']:.4f} | {r['mean']:.4f} | {r['held_out']:.4f} | "
              f"{r['held_out'] - exact['held_out']:+.1e} |")


if __name__ == "__main__":
    main()
