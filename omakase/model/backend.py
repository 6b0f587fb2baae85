"""A model that only maps token ids (B, T) to logits (B, T, V): no cache, no training.

What the serving hacks build from the GPT (an int8 module, a pruned copy, an
ONNX graph run by onnxruntime) is such a function. Wrapped here it answers
the two questions generate and held_out_loss ask without a cache
(`logits_recomputed`, `loss`), so it decodes with generate(..., cache=False)
and is measured with held_out_loss like any engine.
"""

from __future__ import annotations

from typing import Callable

from ..errors import OmakaseError


class SequenceBackend:
    """forward: int64 ids (B, T) as a torch tensor -> logits (B, T, V) as a torch tensor or NumPy array."""

    eval_batch = 512

    def __init__(self, forward: Callable, config, name: str = "module"):
        self.forward, self.config, self.name = forward, config, name

    def new_cache(self, batch: int = 1):
        raise OmakaseError(f"the {self.name} backend has no KV cache; generate with cache=False")

    def logits_recomputed(self, rows: list[list[int]]) -> list[list[float]]:
        import torch

        with torch.inference_mode():
            logits = self.forward(torch.tensor(rows))[:, -1]
        return torch.as_tensor(logits).double().tolist()

    def loss(self, docs: list[list[int]]) -> float:
        """Mean -ln p(target) over every real position of docs (each cut to block_size predictions)."""
        from ..engines.torch import padded_batch

        nll, n = self.summed_nll(*padded_batch(docs, self.config.block_size))
        return nll / n

    def summed_nll(self, inputs, targets) -> tuple[float, int]:
        """Sum of -ln p(target) over the targets that count (not -1), and how many there were."""
        import torch
        import torch.nn.functional as F

        weights = next(iter(getattr(self.forward, "parameters", lambda: iter(()))()), None)
        device = weights.device if weights is not None else "cpu"
        with torch.inference_mode():
            logits = torch.as_tensor(self.forward(inputs.to(device))).double()
            nll = F.cross_entropy(logits.flatten(0, 1), targets.to(logits.device).flatten(), ignore_index=-1,
                                  reduction="sum")
        return float(nll), int((targets >= 0).sum())
