"""Engines: the same model, computed in different ways.

What the model *is* (config, parameter names and shapes, init order,
tokenizer, checkpoint) is defined once outside this package. An engine only
computes, and nothing outside an engine asks which one it holds: the training
loop, generation (omakase.model), the tour and the web page use only the
`Engine` protocol below.

Adding an engine: write `engines/<name>.py` with a class that follows the
protocol, add one line to `ENGINES`, and tests/test_engines.py proves it equal
to the scalar engine (the oracle) on its own.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from ..adam import Adam
from ..config import GPTConfig
from ..errors import OmakaseError

Matrices = dict[str, list[list[float]]]  # {parameter name: rows of floats}, the checkpoint's form


class Engine(Protocol):
    name: str  # the registry's name for it
    config: GPTConfig
    eval_batch: int  # how many documents one forward-only pass takes (held_out_loss chunks by it)

    def __init__(self, config: GPTConfig, params: Matrices, moments: tuple[Matrices, Matrices] | None = None): ...

    def loss_and_grads(self, docs: list[list[int]]) -> float:
        """Token-weighted mean -log p(target) over every position of the token lists in docs
        (each cut to block_size predictions); keeps this loss's gradients (replacing older ones)."""

    def loss(self, docs: list[list[int]]) -> float:
        """The same loss, forward only."""

    def grads(self) -> Matrices:
        """The gradients of the last loss_and_grads."""

    def clip_grads(self, max_norm: float) -> float:
        """Scale the gradients down so their global norm is at most max_norm; returns the norm before."""

    def update(self, adam: Adam, lr: float, t: int) -> None:
        """Apply adam.rule to every parameter (t counts updates from 1), then clear the gradients."""

    def new_cache(self, batch: int = 1) -> Any:
        """An empty KV cache (the sous chefs' notebooks) for `batch` rows."""

    def logits_cached(self, cache: Any, rows: list[list[int]], pos: int, every: bool = False) -> list:
        """Per row, the logits after its last token (every=True: after each of its tokens), as lists of
        floats; the rows (equally long) go in at positions pos, pos+1, ..., their keys and values written
        into the cache. The one call model.generate makes to decode with a cache."""

    def logits_recomputed(self, rows: list[list[int]]) -> list[list[float]]:
        """Per row, the logits after its last token, every position computed again without a cache: what
        generate's cache is checked against, and the only way a backend without a cache decodes."""

    def forward_token(self, token: int, pos: int, cache: Any, trace: dict | None = None) -> Any:
        """Logits after `token` at `pos`, appending its keys and values to the cache. If `trace` is a
        dict, the intermediate vectors are recorded in it: "embedding" (before the first rmsnorm), and
        per layer "stream_in", "attention" (weights per head), "after_attention", "mlp_pre",
        "mlp_hidden" (after ReLU), "residual" (the stream after the layer)."""

    def logits(self, cache: Any, token: int, pos: int) -> list[float]:
        """forward_token as a plain list of floats (one row, one token: what the tour's traces step by)."""

    def params(self) -> Matrices: ...

    def moments(self) -> tuple[Matrices, Matrices]:
        """Adam's m and v, in the checkpoint's form."""


# name -> (module:class, the extra that installs what it needs, or None for the core install)
ENGINES = {
    "scalar": ("omakase.engines.scalar:ScalarEngine", None),
    "numpy": ("omakase.engines.numpy:NumpyEngine", None),
    "torch": ("omakase.engines.torch:TorchEngine", "torch"),
}


def engine_class(name: str) -> type[Engine]:
    if name not in ENGINES:
        raise OmakaseError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    target, extra = ENGINES[name]
    module, cls = target.split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as e:
        hint = f'pip install -e ".[{extra}]"' if extra else 'pip install -e .'
        raise OmakaseError(f"engine {name} needs {e.name or 'a missing package'}, which is not installed; "
                           f"from the checkout: {hint}") from None


def make_engine(name: str, checkpoint_or_config, params=None, moments=None) -> Engine:
    """An engine for a Checkpoint, or for (config, params, moments)."""
    if params is None:
        ckpt = checkpoint_or_config
        return engine_class(name)(ckpt.config, ckpt.params, ckpt.moments)
    return engine_class(name)(checkpoint_or_config, params, moments)
