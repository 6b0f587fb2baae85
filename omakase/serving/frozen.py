"""The laminated recipe book: a checkpoint loaded for serving only.

Training needs the dials, their gradients and the sensei's two notebooks
(Adam's m and v): four numbers per dial. Serving needs only the dials, read
and never written: parameters without gradients, no optimizer state, and
every forward pass under torch.inference_mode (no autograd bookkeeping).
A laminated model is the one Model (omakase.model) on the torch engine; the
serving hacks measure it on the token lists of its run's split.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from .. import inference
from .. import train as training
from ..model import Model

__all__ = ["laminate", "held_out", "training_docs", "data_name", "sample_of", "weight_bytes"]


def laminate(path: str | Path, dtype: str = "float32", device: str = "cpu", data: str | None = None) -> Model:
    """Load `path` for serving (model.load on the torch engine, the data it was trained on attached when it
    is here), frozen: no gradients, no optimizer state, eval mode."""
    model = inference.load_with_data(path, "torch", data, dtype=dtype, device=device)
    model.network.requires_grad_(False).eval()
    return model


def _encoded(model: Model, part: str) -> list[list[int]]:
    parts = inference.split_of(model)
    if parts is None:
        return []
    encode = training.encoder(model.tokenizer, model.dataset.info)
    return [encode(d, f"a {part} document") for d in (parts.val if part == "held-out" else parts.train)]


def held_out(model: Model) -> list[list[int]]:
    """Token lists of the run's held-out split ([] when its data is not on this machine)."""
    return _encoded(model, "held-out")


def training_docs(model: Model) -> list[list[int]]:
    """Token lists of the run's training split (drift and pruning fine-tune on them)."""
    return _encoded(model, "training")


def data_name(model: Model) -> str:
    return model.dataset.info["name"] if model.dataset is not None else ""


def sample_of(token_lists: list[list[int]], n: int, seed: int = 0) -> list[list[int]]:
    """At most n of the lists, a seeded choice (the same every run): measuring on all 3,203 held-out
    names takes a moment; a few hundred give the loss to about two decimals."""
    if len(token_lists) <= n:
        return list(token_lists)
    return random.Random(seed).sample(token_lists, n)


def weight_bytes(module: torch.nn.Module) -> int:
    """Bytes of every tensor in the state_dict, as held: float32 weights, int8 values and their scales;
    torch's packed int8 weights (inside tuples) count one byte per value plus their scale and zero point."""
    total = 0
    stack = list(module.state_dict().values())
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif torch.is_tensor(item) and item.is_quantized:
            total += item.numel() * item.element_size()
            if item.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                scales, zeros = item.q_per_channel_scales(), item.q_per_channel_zero_points()
                total += scales.numel() * scales.element_size() + zeros.numel() * zeros.element_size()
            else:
                total += 16  # one float64 scale and one int64 zero point
        elif torch.is_tensor(item):
            total += item.numel() * item.element_size()
    return total
