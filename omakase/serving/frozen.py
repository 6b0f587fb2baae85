"""The laminated recipe book: a checkpoint loaded for serving only.

Training needs the dials, their gradients and the sensei's two notebooks
(Adam's m and v): four numbers per dial. Serving needs only the dials, read
and never written: parameters without gradients, no optimizer state, and
every forward pass under torch.inference_mode (no autograd bookkeeping).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import checkpoint as ckpt_io
from .. import service
from .. import train as training
from ..checkpoint import Checkpoint
from ..engines.torch import DTYPES, GPT, padded_batch, pick_device
from ..errors import OmakaseError


@dataclass
class Served:
    """A laminated model with what serving and measuring it need."""

    model: GPT  # eval mode, parameters read-only
    checkpoint: Checkpoint  # without Adam's moments
    path: Path
    held_out: list[list[int]]  # token lists of the run's held-out split ([] when its data is not here)
    train: list[list[int]]  # token lists of the training split (drift and pruning fine-tune on them)
    data_name: str

    @property
    def config(self):
        return self.checkpoint.config

    @property
    def tokenizer(self):
        return self.checkpoint.tokenizer

    @property
    def is_stream(self) -> bool:
        return (self.checkpoint.run.get("data") or {}).get("layout", "lines") == "stream"


def build(checkpoint: Checkpoint, dtype: str = "float32", device: str = "cpu") -> GPT:
    """The GPT module of a checkpoint, in `dtype`, frozen: no gradients, eval mode."""
    if dtype not in DTYPES:
        raise OmakaseError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPES)}")
    model = GPT(checkpoint.config)
    with torch.no_grad():
        for name in model.names:
            model.w(name).data = torch.tensor(checkpoint.params[name], dtype=DTYPES[dtype])
    return model.to(pick_device(device)).requires_grad_(False).eval()


def laminate(path: str | Path, dtype: str = "float32", device: str = "cpu", data: str | None = None) -> Served:
    """Load `path` for serving: the frozen module, and the run's splits as token lists when its data is here."""
    ckpt = ckpt_io.load(path)
    ckpt.moments = None  # the sensei's notebooks stay in the training kitchen
    dataset = service.dataset_of(ckpt, data)
    held_out, train = [], []
    if dataset is not None:
        parts = service.Model(ckpt, Path(path), None, dataset).split()
        encode = training.encoder(ckpt.tokenizer, dataset.info)
        held_out = [encode(d, "a held-out document") for d in parts.val]
        train = [encode(d, "a training document") for d in parts.train]
    return Served(build(ckpt, dtype, device), ckpt, Path(path), held_out, train,
                  dataset.info["name"] if dataset else "")


@torch.inference_mode()
def held_out_loss(model: torch.nn.Module, token_lists: list[list[int]], block_size: int, batch: int = 512) -> float:
    """Mean -ln p(target) per predicted token over token_lists, for any module mapping (B, T) ids to logits."""
    if not token_lists:
        raise OmakaseError("no held-out documents: the checkpoint's data is not on this machine "
                           "(give the data it was trained on)")
    device = next(iter(model.parameters()), torch.empty(0)).device
    total, count = 0.0, 0
    for start in range(0, len(token_lists), batch):
        inputs, targets = padded_batch(token_lists[start : start + batch], block_size, device)
        logits = model(inputs).double()
        total += float(F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1, reduction="sum"))
        count += int((targets >= 0).sum())
    return total / count


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
