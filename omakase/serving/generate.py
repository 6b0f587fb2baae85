"""Generating with a laminated model: greedy decoding with and without the sous chefs' notebooks.

The KV cache (the whipped cream kept in the fridge) holds every earlier
position's keys and values, so each new token costs one position's forward
pass; without it, every step recomputes the whole prefix. A batch of prompts
(eight cakes on one tray) shares one forward pass per step.
"""

from __future__ import annotations

import torch

from ..engines.torch import GPT


def new_cache(model: GPT, batch: int = 1):
    """Per layer, room for the keys and values of block_size positions of `batch` sequences."""
    cfg = model.config
    like = model.w("wte")
    shape = (batch, cfg.n_head, cfg.block_size, cfg.head_dim)
    make = lambda: [torch.zeros(shape, dtype=like.dtype, device=like.device) for _ in range(cfg.n_layer)]  # noqa: E731
    return make(), make()


def cache_bytes(model: GPT, batch: int, positions: int) -> int:
    """Bytes the cache holds after `positions` positions: keys and values, every layer and head."""
    cfg = model.config
    return 2 * cfg.n_layer * batch * positions * cfg.n_embd * model.w("wte").element_size()


def room(model: GPT, prompt_length: int, n_new: int) -> None:
    if prompt_length < 1:
        raise ValueError("a prompt needs at least one token (the bell)")
    if prompt_length + n_new - 1 > model.config.block_size:
        raise ValueError(f"{prompt_length} prompt tokens and {n_new} new ones do not fit in a block of "
                         f"{model.config.block_size}")


@torch.inference_mode()
def greedy_cached(model: GPT, prompts: torch.Tensor, n_new: int) -> torch.Tensor:
    """(B, n_new) most likely continuations of the (B, T0) prompts, one position per step with the cache."""
    B, T0 = prompts.shape
    room(model, T0, n_new)
    cache = new_cache(model, B)
    logits = model(prompts, cache, 0)[:, -1]  # the prompt in one pass: its keys and values fill the notebooks
    out = []
    for pos in range(T0, T0 + n_new):
        token = logits.argmax(-1, keepdim=True)
        out.append(token)
        if len(out) == n_new:
            break
        logits = model(token, cache, pos)[:, -1]
    return torch.cat(out, dim=1)


@torch.inference_mode()
def greedy_recomputed(model: GPT, prompts: torch.Tensor, n_new: int) -> torch.Tensor:
    """The same continuations without a cache: every step runs the whole sequence so far again."""
    room(model, prompts.shape[1], n_new)
    seq = prompts
    for _ in range(n_new):
        token = model(seq)[:, -1].argmax(-1, keepdim=True)
        seq = torch.cat([seq, token], dim=1)
    return seq[:, prompts.shape[1]:]
