"""The held-out loss: mean -ln p(next token) per counted token over text a model never trained on.

The one measure of how well a model predicts held-out text, for every engine
and backend: Ming's evaluate and training reports, the assistant's
pretraining and SFT curves, the serving hacks' before and after (quantized,
pruned, drifted). The text comes as token lists (each cut to block_size
predictions, every next token counted) or as (inputs, targets) batches whose
-1 targets are not counted (a chat's system and user turns).
"""

from __future__ import annotations

import math

from ..errors import OmakaseError
from .backend import SequenceBackend

IGNORE = -1  # a target that is not counted (F.cross_entropy's ignore_index)


def held_out_loss(model, data: list, progress=None) -> float:
    """Token-weighted mean of -ln p(target). `model`: a Model, an engine, or a torch module mapping ids to
    logits (a quantized or pruned copy, a GPT in training). `data`: token lists, engine.eval_batch of them
    at a time, or (inputs, targets) batches. progress(done, total) after each chunk of token lists."""
    engine = getattr(model, "engine", model)
    if not data:
        raise OmakaseError("no held-out documents: the model's data is not on this machine "
                           "(give the data it was trained on)")
    if isinstance(data[0], tuple):
        return _batches(engine, data)
    if not hasattr(engine, "loss"):
        engine = SequenceBackend(engine, engine.config)
    total, count, chunk = 0.0, 0, engine.eval_batch
    for i in range(0, len(data), chunk):
        part = data[i : i + chunk]
        n = sum(min(engine.config.block_size, len(t) - 1) for t in part)
        total += engine.loss(part) * n
        count += n
        if progress:
            progress(i + len(part), len(data))
    return total / count


def _batches(engine, batches) -> float:
    """Over (inputs, targets) batches, in eval mode (no dropout), the module's mode restored after."""
    if isinstance(engine, SequenceBackend):
        backend, module = engine, engine.forward
    else:
        module = getattr(engine, "model", engine)  # the torch engine's GPT, or a module itself
        if not callable(module):
            raise OmakaseError(f"the {engine.name} engine measures token lists; (inputs, targets) batches "
                               "need a torch model")
        backend = SequenceBackend(module, engine.config)
    was_training = getattr(module, "training", False)
    if was_training:
        module.eval()
    total, count = 0.0, 0
    try:
        for inputs, targets in batches:
            nll, n = backend.summed_nll(inputs, targets)
            total, count = total + nll, count + n
    finally:
        if was_training:
            module.train()
    return total / count if count else math.nan
