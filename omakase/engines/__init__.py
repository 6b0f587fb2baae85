"""Engines: the same model, computed in different ways.

What the model *is* (config, parameter names and shapes, init order,
tokenizer, checkpoint) is defined once outside this package. An engine only
computes. Every engine is a class with this interface, and nothing outside
an engine asks which one it holds:

    Engine(config, params, moments=None)   params: {name: [[float]]}; moments: (m, v) alike
    .name                                   "scalar" or "numpy"
    .loss_and_grads(docs) -> float          mean -log p(target) over every position of the
                                            token lists in docs (each cut to block_size
                                            positions); keeps the gradients for update()
    .loss(docs) -> float                    the same loss, forward only
    .grads() -> {name: [[float]]}           the gradients of the last loss_and_grads
    .update(adam, lr, t)                    apply adam.rule to every parameter (t counts
                                            updates from 1), then clear the gradients
    .new_cache()                            an empty KV cache
    .logits(cache, token, pos) -> [float]   next-token logits after `token` at `pos`,
                                            appending its keys and values to the cache
    .params() / .moments()                  export, in the checkpoint's nested-list form
"""

from __future__ import annotations

import importlib

from ..errors import OmakaseError

ENGINES = {
    "scalar": "omakase.engines.scalar:ScalarEngine",
    "numpy": "omakase.engines.numpy:NumpyEngine",
}


def engine_class(name: str):
    if name not in ENGINES:
        raise OmakaseError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    module, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_engine(name: str, checkpoint_or_config, params=None, moments=None):
    """An engine for a Checkpoint, or for (config, params, moments)."""
    if params is None:
        ckpt = checkpoint_or_config
        return engine_class(name)(ckpt.config, ckpt.params, ckpt.moments)
    return engine_class(name)(checkpoint_or_config, params, moments)
