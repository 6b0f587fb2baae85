"""What torch.compile buys: time to the first step, then steps per second, eager beside compiled.

    python benchmarks/compile.py [--steps 200] [--repeats 3] [--preset shakespeare-char]

Each repeat builds the preset's model from the same initial dials twice, once eager and once with
`--compile` (torch.compile), in a fresh process each with Inductor's caches off, so that no compiled graph is reused: the first
step's wall time (for the compiled model it includes compiling), then steps per second over the
next --steps steps, and the loss after them (both should agree to float32's precision). Medians
over --repeats. The data is the preset's (Shakespeare: OMAKASE_DATA_DIR, the cache or a download).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

# One measurement in a fresh process: prints {"first": s, "per_s": steps/s, "loss": running mean}.
MEASURE = """
import json, sys, time
from omakase import inference, train as training
from omakase.config import MODEL_DIALS, settings_for
preset, steps, compiled = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
chosen, _ = settings_for(preset, steps=steps + 1)
dataset = inference.load_dataset(chosen.get("data"), None)
plan = training.plan_from(chosen, seed=42)
run = training.start(dataset.docs, dataset.info, plan, "torch", *(chosen[k] for k in MODEL_DIALS),
                     engine_options={"dtype": chosen.get("dtype", "float32"), "device": "cpu", "compile": compiled})
started = time.perf_counter(); run.train_step(); first = time.perf_counter() - started
started = time.perf_counter()
while run.step < plan.steps:
    run.train_step()
print(json.dumps({"first": first, "per_s": steps / (time.perf_counter() - started), "loss": run.running_mean()}))
"""


def measure(preset: str, steps: int, compiled: bool) -> dict:
    # a cold start: Inductor's on-disk caches would otherwise hand a later process the compiled graph
    env = {**os.environ, "TORCHINDUCTOR_FORCE_DISABLE_CACHES": "1"}
    done = subprocess.run([sys.executable, "-c", MEASURE, preset, str(steps), "1" if compiled else "0"],
                          capture_output=True, text=True, env=env)
    if done.returncode:
        sys.exit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default="shakespeare-char")
    args = parser.parse_args()
    rows = {}
    for compiled in (False, True):
        runs = [measure(args.preset, args.steps, compiled) for _ in range(args.repeats)]
        rows["compiled" if compiled else "eager"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    eager = rows["eager"]
    print(f"| {args.preset}, torch float32, CPU | first step | steps/s after it | ratio to eager | "
          f"running mean after {args.steps + 1} steps |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in rows.items():
        print(f"| {name} | {r['first']:.2f} s | {r['per_s']:.1f} | {r['per_s'] / eager['per_s']:.2f}x | {r['loss']:.4f} |")
    print(f"median of {args.repeats} fresh processes each")


if __name__ == "__main__":
    main()
