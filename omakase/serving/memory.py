"""The laminated book: how much memory serving needs against training, for the same model.

Training holds, per dial, the dial, its gradient and Adam's two moments (four
numbers), plus every layer's activations saved for the backward pass. Serving
holds the dial alone and keeps no activations (torch.inference_mode). Each is
measured in a fresh process: PyTorch imported and the checkpoint read, then the
kernel's peak-memory mark is reset (Linux's /proc/self/clear_refs) and the
process builds its model and serves or trains one batch; what it added to its
resident memory is the peak after minus the resident memory before.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .measured import Measured
from ..timing import machine

MODES = ("serve", "train")


def added_memory(mode: str, path: str, batch: int) -> dict:
    """Resident bytes before the work and at its peak, in a fresh process doing `mode` with `path`."""
    out = subprocess.run([sys.executable, "-m", "omakase.serving.memory", mode, str(path), str(batch)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(served, batch: int = 32, progress=None) -> Measured:
    rss = {}
    for i, mode in enumerate(MODES):
        rss[mode] = added_memory(mode, served.path, batch)
        if progress:
            progress(i + 1, len(MODES), mode)
    n = sum(p.numel() for p in served.network.parameters())
    size = served.network.w("wte").element_size()
    tensors = {"serve": n * size, "train": 4 * n * size}  # dials; dials, gradients, Adam's m and v
    rows = [[mode, round(rss[mode]["before"] / 2**20, 1), round((rss[mode]["peak"] - rss[mode]["before"]) / 2**20, 2),
             tensors[mode]] for mode in MODES]
    m = Measured("memory", f"The laminated book: memory to serve vs to train ({batch} documents per batch)",
                 ["process", "resident MiB before", "added MiB at peak", "parameter-state bytes"], rows,
                 plot=None, setup={"batch": batch, "parameters": n, "dtype": "float32", **machine()})
    serve, train = rows
    m.notes = [f"After importing PyTorch and reading the checkpoint, training one batch added {train[2]} MiB to the "
               f"process and serving it {serve[2]} MiB"
               + (f" ({train[2] / serve[2]:.1f}x as much to train)." if train[2] > serve[2] > 0 else "."),
               f"Parameter state alone: {serve[3]:,} bytes to serve, {train[3]:,} to train (dials, gradients and "
               f"Adam's two moments: {train[3] / serve[3]:.0f}x)."]
    return m


def _child(mode: str, path: str, batch: int) -> None:
    """What the measured process does (run as python -m omakase.serving.memory MODE PATH BATCH)."""
    import torch

    from .. import checkpoint as ckpt_io

    ckpt = ckpt_io.load(path)
    x = torch.ones(4, 4, requires_grad=True)
    (x @ x).relu().sum().backward()  # PyTorch's first-use allocations (thread pools, autograd) come before
    before = _resident("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the memory resident now
    if mode == "serve":
        from ..engines.torch import TorchEngine
        from ..model import Model, Sampler, generate

        model = Model(TorchEngine(ckpt.config, ckpt.params, dtype="float32"), ckpt.tokenizer)
        model.network.requires_grad_(False)
        generate(model, [ckpt.tokenizer.bos], sampler=Sampler(0.0), max_new=ckpt.config.block_size, n=batch)
    else:
        from ..adam import Adam
        from ..engines.torch import TorchEngine

        engine = TorchEngine(ckpt.config, ckpt.params, None, dtype="float32")
        block = [[ckpt.tokenizer.bos] * (ckpt.config.block_size + 1)] * batch  # a full block per document
        engine.loss_and_grads(block)
        engine.update(Adam(), 1e-3, 1)
    print(json.dumps({"before": before, "peak": _resident("VmHWM")}))


def _resident(field: str) -> int:
    """Bytes of /proc/self/status's field (VmRSS: resident now; VmHWM: the peak since the last reset)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024

if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]))
