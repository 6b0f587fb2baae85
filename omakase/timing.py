"""Honest timing: warm-up runs excluded, several repeats, the median; the machine it ran on, and how busy it was."""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass


@dataclass
class Timing:
    median: float  # seconds
    runs: list[float]

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repeats disagree."""
        return (max(self.runs) - min(self.runs)) / self.median if self.median else 0.0


def median_seconds(fn, repeats: int = 5, warmup: int = 1) -> Timing:
    """Call fn() warmup times untimed, then `repeats` times timed; the median wall-clock seconds."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Timing(statistics.median(runs), runs)


def alternate_seconds(fns, repeats: int) -> list[Timing]:
    """Timings of each fn, run in turns (a, b, a, b, ...) after one warm-up each: a ratio of two
    timings taken side by side survives the load of the machine changing during the run."""
    for fn in fns:
        fn()
    runs = [[] for _ in fns]
    for _ in range(repeats):
        for fn, times in zip(fns, runs):
            times.append(median_seconds(fn, repeats=1, warmup=0).median)
    return [Timing(statistics.median(times), times) for times in runs]


def machine() -> dict:
    """The facts a timing needs beside it: CPU, cores, the threads PyTorch uses, versions."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def load_average() -> float | None:
    """The machine's 1-minute load average (runnable processes), None where the OS has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def load_lines(start: float | None, end: float | None) -> list[str]:
    """What a timing table says under it about the machine's load: the line, and a warning when the load
    before the measurement was above half the cores (other work then shares the CPU: timings slower and
    noisier than quiet). The load at the end counts the measurement's own threads too, so it is shown,
    not judged."""
    if start is None or end is None:
        return ["machine load: not available on this system"]
    cores = os.cpu_count() or 1
    lines = [f"machine load (1-minute average): {start:.2f} before the measurement, {end:.2f} at its end (its own "
             f"threads included), on {cores} cores"]
    if start > 0.5 * cores:
        lines.append(f"warning: the machine was busy (load {start:.2f} on {cores} cores before the measurement): "
                     "these timings are slower and noisier than on a quiet machine; rerun on a quiet one before "
                     "quoting them")
    return lines


def memory_bandwidth(megabytes: int = 256, repeats: int = 5) -> float:
    """Bytes per second this machine reads and writes memory, measured by copying a large array
    (read + write counted), median of repeats: the ceiling on reading a model's weights."""
    import numpy as np

    src = np.ones(megabytes * 2**20 // 8)
    dst = np.empty_like(src)
    t = median_seconds(lambda: np.copyto(dst, src), repeats=repeats, warmup=1)
    return 2 * src.nbytes / t.median
