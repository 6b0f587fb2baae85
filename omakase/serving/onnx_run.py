"""Mise-en-place stations: the frozen GPT exported to ONNX and run by onnxruntime.

Eager PyTorch cooks each dish by reading the recipe line by line: every
forward pass walks the Python code again. Exporting writes the whole recipe
down once as a graph (ONNX: operators and weights in one file) that another
kitchen, onnxruntime, can lay out in advance: the stations are set before the
first order, and no Python runs between the matrix products.

What is exported is the whole-sequence forward: token ids (batch, T) in,
logits (batch, T, vocab) out, positions 0..T-1, no KV cache; batch and T are
dynamic (T up to the block size), so one file serves any batch of documents.
measure() checks the logits against PyTorch's (float32, within 1e-4), times a
forward pass at a few batch sizes and greedy generation at batch 1 (the whole
prefix recomputed each step, since the graph has no cache) for both, and
checks that both generate the same tokens.
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from ..engines.torch import GPT, padded_batch
from ..errors import OmakaseError
from ..model import Model, Sampler, SequenceBackend, generate
from .frozen import held_out, laminate, sample_of, weight_bytes
from .measured import Measured, Plot
from ..timing import alternate_seconds, machine

TOLERANCE = 1e-4  # the largest |logits difference| we accept between onnxruntime and PyTorch in float32


def require(*names: str):
    """Import the `service` extra's modules (onnx, onnxscript, onnxruntime), or say in one line how to get
    them; returns the last one."""
    for name in names:
        try:
            module = __import__(name)
        except ImportError:
            raise OmakaseError(f"the ONNX hack needs {name}, which is not installed; from the checkout: "
                               'pip install -e ".[service]"') from None
    return module


class WholeSequence(torch.nn.Module):
    """The GPT's forward without a cache: (B, T) ids -> (B, T, V) logits. Exporting this wrapper keeps the
    cache and pos0 arguments (and the cache branch) out of the graph, and leaves engines/torch.py untouched."""

    def __init__(self, gpt: GPT):
        super().__init__()
        self.gpt = gpt

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.gpt(inputs)


def export(model: GPT, path: str | Path) -> Path:
    """Write the model's whole-sequence forward to `path` as ONNX, batch and sequence axes dynamic.

    torch.onnx.export with dynamo=True (the default since torch 2.9; the TorchScript exporter,
    dynamo=False, still exports this model but is deprecated): it traces with torch.export, so the
    dynamic axes are torch.export.Dim objects, and it needs onnxscript to translate the graph.
    The sequence axis is capped at the block size, where the position table (wpe) ends.
    F.scaled_dot_product_attention(is_causal=True) exports as MatMul/Softmax with a Trilu mask that
    follows T. external_data=False: one self-contained file (protobuf caps that at 2 GB, far above Ming).
    """
    require("onnx", "onnxscript")  # torch.onnx's exporter builds the graph with both
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    block = model.config.block_size
    batch, sequence = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=1, max=block)
    # a sample input of size >= 2 on both axes: torch.export fixes any axis whose sample size is 0 or 1
    sample = torch.zeros((2, min(3, block)), dtype=torch.long, device=model.w("wte").device)
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry.level
    registry.setLevel(logging.ERROR)  # "torchvision is not installed. Skipping torchvision::nms": ops we never use
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # torch.export's own deprecation, not ours
            torch.onnx.export(WholeSequence(model).eval(), (sample,), path, input_names=["inputs"],
                              output_names=["logits"], dynamic_shapes={"inputs": {0: batch, 1: sequence}},
                              dynamo=True, external_data=False, verbose=False)
    finally:
        registry.setLevel(level)
    return path


def session(path: str | Path):
    """An onnxruntime session on the CPU with as many threads as PyTorch uses, so the race is fair."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess, inputs: np.ndarray) -> np.ndarray:
    """Logits (B, T, V) for int64 token ids (B, T), from the exported graph."""
    return sess.run(None, {sess.get_inputs()[0].name: inputs})[0]


def max_difference(model: GPT, sess, inputs: torch.Tensor) -> float:
    """max |logits_onnxruntime - logits_torch| over every position of the (B, T) batch."""
    with torch.inference_mode():
        expected = model(inputs).float().numpy()
    return float(np.abs(run(sess, inputs.numpy()) - expected).max())


def backend(sess, config) -> Model:
    """The exported graph as a model generate can decode with (cache=False: the graph has no cache)."""
    return Model(SequenceBackend(lambda ids: run(sess, ids.numpy()), config, "onnxruntime"), None)


def greedy(model: Model, prompts: list[list[int]], n_new: int) -> list[list[int]]:
    """n_new greedy tokens per prompt, the whole sequence recomputed every step (as the graph must)."""
    return [m.ids for m in generate(model, prompts, sampler=Sampler(0.0), max_new=n_new, cache=False)]


def initializer_bytes(path: str | Path) -> int:
    """Bytes of the weights and constants stored in an ONNX file (the rest of the file is the graph)."""
    onnx = require("onnx")
    return sum(onnx.numpy_helper.to_array(t).nbytes for t in onnx.load(str(path)).graph.initializer)


def measure(served: Model, batch_sizes=(1, 8, 64), repeats: int = 5, progress=None,
            folder: str | Path | None = None) -> Measured:
    """PyTorch eager vs onnxruntime on the same float32 model: logits, forward tokens/s, greedy generation.

    The ONNX file goes into `folder` (kept) or a temporary folder (removed afterwards).
    """
    require("onnx", "onnxscript", "onnxruntime")
    documents = held_out(served)
    if not documents:
        raise OmakaseError("no held-out documents: the checkpoint's data is not on this machine "
                           "(give the data it was trained on)")
    if served.network.w("wte").dtype != torch.float32 or served.network.w("wte").device.type != "cpu":
        served = laminate(served.path, "float32", "cpu")  # onnxruntime runs on the CPU here, in float32, and
    model = served.network  # so does the PyTorch it races
    cfg, total = served.config, len(batch_sizes) + 2
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(folder or scratch) / f"{served.path.stem}.onnx"
        start = time.perf_counter()
        export(model, path)
        export_s = time.perf_counter() - start
        sess, onnx_bytes, stored = session(path), path.stat().st_size, initializer_bytes(path)
        if progress:
            progress(1, total, f"exported to ONNX in {export_s:.1f} s")
        docs = sample_of(documents, max(batch_sizes))
        rows = []
        for i, b in enumerate(batch_sizes):
            inputs = padded_batch(docs[:b], cfg.block_size)[0]
            positions = inputs.numel()  # every position of the padded batch is computed
            ids = inputs.numpy()
            with torch.inference_mode():  # timed in turns: a change in the machine's load falls on both
                timings = alternate_seconds([lambda: model(inputs), lambda: run(sess, ids)], repeats)
            eager, ort_s = (t.median for t in timings)
            rows.append(["forward", b, positions, round(positions / eager, 1), round(positions / ort_s, 1),
                         round(eager / ort_s, 2), max_difference(model, sess, inputs), None,
                         round(max(t.spread for t in timings), 3)])
            if progress:
                progress(i + 2, total, f"forward, batch {b}")
        prompt, n_new, exported = [[served.tokenizer.bos]], cfg.block_size, backend(sess, cfg)
        same = greedy(served, prompt, n_new) == greedy(exported, prompt, n_new)
        timings = alternate_seconds([lambda: greedy(served, prompt, n_new), lambda: greedy(exported, prompt, n_new)],
                                    repeats)
        eager, ort_s = (t.median for t in timings)
        rows.append(["generate", 1, n_new, round(n_new / eager, 1), round(n_new / ort_s, 1),
                     round(eager / ort_s, 2), None, same, round(max(t.spread for t in timings), 3)])
        if progress:
            progress(total, total, f"greedy generation of {n_new} tokens")
    m = Measured(
        "onnx", "ONNX: the same float32 model in PyTorch eager and in onnxruntime, on the CPU",
        ["work", "batch", "tokens", "torch tokens/s", "onnxruntime tokens/s", "onnxruntime / torch",
         "max |logits diff|", "same tokens", "spread"], rows,
        plot=Plot("batch", ["torch tokens/s", "onnxruntime tokens/s"], "documents per forward pass",
                  "tokens/s", logx=True, series="work"),
        setup={"dtype": "float32", "repeats": repeats, "batch_sizes": list(batch_sizes), "new_tokens": n_new,
               "tokens": "forward: positions of the padded batch of held-out documents (B x T); generate: "
                         "new tokens from the bell, the prefix recomputed every step",
               "onnx_bytes": onnx_bytes, "initializer_bytes": stored, "parameter_bytes": weight_bytes(model),
               "export_s": round(export_s, 2),
               "onnx_file": path.name if folder else None, "exporter": "torch.onnx.export(dynamo=True)",
               "onnxruntime_threads": torch.get_num_threads(),
               "spread": "(slowest - fastest) / median of the repeats, the larger of the two timings", **machine()})
    m.notes = notes(m)
    return m


def notes(m: Measured) -> list[str]:
    work, batch, ratio = m.column("work"), m.column("batch"), m.column("onnxruntime / torch")
    torch_s, ort_s = m.column("torch tokens/s"), m.column("onnxruntime tokens/s")
    worst = max(d for d in m.column("max |logits diff|") if d is not None)
    forward = [i for i, w in enumerate(work) if w == "forward"]
    out = [f"Largest |logits difference| between onnxruntime and PyTorch over {max(batch[i] for i in forward)} "
           f"held-out documents: {worst:.2e}, {'within' if worst <= TOLERANCE else 'BEYOND'} the {TOLERANCE:g} "
           "allowed in float32."]
    out += [f"Forward pass at batch {batch[i]}: onnxruntime ran {ratio[i]:.2f}x PyTorch eager's tokens/s "
            f"({ort_s[i]:,.0f} against {torch_s[i]:,.0f})." for i in forward]
    for i in (i for i, w in enumerate(work) if w == "generate"):
        same = m.rows[i][m.columns.index("same tokens")]
        out.append(f"Greedy generation at batch 1, prefix recomputed each step: onnxruntime {ratio[i]:.2f}x "
                   f"PyTorch eager ({ort_s[i]:,.0f} against {torch_s[i]:,.0f} tokens/s); "
                   + ("the same tokens both ways." if same else "the tokens DIFFERED (an argmax flipped)."))
    size, stored, params = (m.setup[k] for k in ("onnx_bytes", "initializer_bytes", "parameter_bytes"))
    out.append(f"The ONNX file holds {size:,} bytes, {size / params:.2f}x the {params:,} bytes of float32 "
               f"parameters: {stored:,} bytes of weights and constants ({stored / params:.2f}x) and "
               f"{size - stored:,} of graph (operators, shapes and the exporter's notes on each node).")
    return out
