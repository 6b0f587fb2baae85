"""Talking to a model: sample token after token with the KV cache until <|end|> or the block is full.

`continue_text` asks the base model to continue a document (what a base model
does with anything); `reply` renders a conversation in the chat format with an
open assistant turn and samples the answer. Temperature is the risk dial (0:
always the likeliest token), top-k keeps only the k likeliest tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OmakaseError
from .chat import END, document, render


@dataclass
class Said:
    text: str  # the new tokens decoded, <|end|> not included
    ids: list[int]  # the new tokens, <|end|> included when the model stopped there
    prompt_ids: list[int]
    stopped: bool  # True when the model wrote <|end|>; False when it ran out of room or length


def sample(model, prompt_ids: list[int], max_new: int, temperature: float = 0.0, top_k: int = 0,
           stop: int | None = None, seed: int = 0) -> tuple[list[int], bool]:
    """New tokens after the prompt, one position per step with the KV cache."""
    import torch

    from ..serving.generate import new_cache

    block = model.config.block_size
    if not prompt_ids:
        raise OmakaseError("the prompt is empty; say something")
    if len(prompt_ids) >= block:
        raise OmakaseError(f"the prompt is {len(prompt_ids)} tokens, but this model reads at most {block}; "
                           f"shorten it")
    if temperature < 0:
        raise OmakaseError(f"temperature must be >= 0, got {temperature}")
    generator = torch.Generator().manual_seed(seed)
    out: list[int] = []
    with torch.inference_mode():
        cache = new_cache(model, 1)
        device = model.w("wte").device
        logits = model(torch.tensor([prompt_ids], device=device), cache, 0)[0, -1]
        pos = len(prompt_ids)
        while len(out) < max_new:
            token = pick(logits, temperature, top_k, generator)
            out.append(token)
            if token == stop:
                return out, True
            if pos >= block:
                break
            logits = model(torch.tensor([[token]], device=device), cache, pos)[0, -1]
            pos += 1
    return out, False


def pick(logits, temperature: float, top_k: int, generator) -> int:
    import torch

    if temperature == 0:
        return int(logits.argmax())
    logits = logits.float() / temperature
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return int(torch.multinomial(logits.softmax(-1), 1, generator=generator))


def reply(model, bpe, conversation: list[dict], max_new: int = 96, temperature: float = 0.0, top_k: int = 0,
          seed: int = 0) -> Said:
    """The assistant's answer to the last user message of a conversation."""
    prompt = render(conversation, bpe, reply=True).ids
    new, stopped = sample(model, prompt, max_new, temperature, top_k, stop=bpe.special[END], seed=seed)
    return Said(bpe.decode(new[:-1] if stopped else new), new, prompt, stopped)


def continue_text(model, bpe, text: str, max_new: int = 96, temperature: float = 0.0, top_k: int = 0,
                  seed: int = 0) -> Said:
    """What a model writes after the start of a document (it stops at the next document's <|doc|>)."""
    prompt = document(text, bpe)
    new, stopped = sample(model, prompt, max_new, temperature, top_k, stop=bpe.special["<|doc|>"], seed=seed)
    return Said(bpe.decode(new[:-1] if stopped else new), new, prompt, stopped)
