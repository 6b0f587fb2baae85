"""Many stoves: one process, two processes on one node, and two nodes simulated on this machine.

    python benchmarks/stoves.py [--steps 100] [--batch-size 32] [--repeats 3]

The same run (names.txt, seed 42, the torch engine in float64 on CPU, a global batch of
--batch-size names per step) three ways, each in fresh processes:
  1 process      python -m omakase train ...
  2 processes    torchrun --standalone --nproc_per_node=2 -m omakase train ...
  2 nodes        two torchrun launchers, --nnodes=2 --nproc_per_node=1, meeting through a c10d
                 rendezvous on localhost: what a real cluster does, with both "nodes" here
The table gives the wall time of the whole command (imports and process start included, median of
--repeats), steps per second over it, and the largest difference of any step's loss from the
single process (the processes share each batch, so the losses should agree to float64 rounding).
On 2 cores the extra processes mostly pay for their start-up and for the gradient exchange:
the point here is equality, and the command for a cluster, not speed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def runner() -> list[str]:
    path = Path(sys.executable).with_name("torchrun")
    return [str(path)] if path.exists() else [sys.executable, "-m", "torch.distributed.run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(steps: int, batch: int, log: Path) -> list[str]:
    return ["-m", "omakase", "train", "--engine", "torch", "--dtype", "float64", "--device", "cpu", "--steps",
            str(steps), "--batch-size", str(batch), "--samples", "0", "--eval-every", "0",
            "--out", str(log.with_suffix(".json")), "--force", "--log-file", str(log)]


def launch(way: str, args: list[str], env: dict) -> float:
    started = time.perf_counter()
    if way == "1 process":
        procs = [subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL)]
    elif way == "2 processes":
        procs = [subprocess.Popen([*runner(), "--standalone", "--nproc_per_node=2", *args], env=env, stdout=subprocess.DEVNULL)]
    else:  # two launchers, as two machines would run them, meeting at one rendezvous address
        endpoint = f"127.0.0.1:{free_port()}"
        procs = [subprocess.Popen([*runner(), "--nnodes=2", "--nproc_per_node=1", f"--node_rank={node}",
                                   "--rdzv_backend=c10d", f"--rdzv_endpoint={endpoint}", "--rdzv_id=omakase-bench",
                                   *args], env=env, stdout=subprocess.DEVNULL) for node in (0, 1)]
    if any(p.wait(timeout=1800) for p in procs):
        sys.exit(f"{way} failed")
    return time.perf_counter() - started


def losses(log: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in log.read_text().splitlines() if '"loss"' in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # torchrun's own default; the single process gets the same
    ways = ("1 process", "2 processes", "2 nodes (simulated)")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for way in ways:
            log = Path(tmp) / f"{way.split()[0]}-{way.split()[1]}.jsonl"
            times = []
            for _ in range(args.repeats):
                log.unlink(missing_ok=True)
                times.append(launch(way, train_args(args.steps, args.batch_size, log), env))
            rows[way] = {"seconds": statistics.median(times), "losses": losses(log)}
    one = rows["1 process"]["losses"]
    print(f"| {args.steps} steps of {args.batch_size} names, torch float64, CPU | wall time | steps/s "
          f"| ratio to 1 process | largest loss difference from 1 process |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for way, r in rows.items():
        gap = max(abs(a - b) for a, b in zip(r["losses"], one))
        print(f"| {way} | {r['seconds']:.1f} s | {args.steps / r['seconds']:.1f} | "
              f"{rows['1 process']['seconds'] / r['seconds']:.2f}x | {gap:.1e} |")
    print(f"median of {args.repeats} runs each, processes included")


if __name__ == "__main__":
    main()
