"""Graduation: Ming cooks alone, course by course, with the risk dial set by the door.

Cooking is generation (omakase.model.generate) from the bell: at each position
the engine gives logits for the next course, the sampler divides them by the
temperature, takes a softmax and draws one course with `random.choices`,
exactly as the reference does, so the same random stream gives the same names
with any engine. Temperature 0 means always the most likely course: the same
menu every time. The bell (BOS) ends a menu.
"""

from __future__ import annotations

import math
import random

from .errors import OmakaseError
from .model.generate import generate
from .model.load import Model
from .model.sampler import Sampler, softmax
from .tokenizer import Tokenizer

__all__ = ["cook", "write", "softmax", "course_probabilities", "course_penalty"]


def cook(engine, tokenizer: Tokenizer, rng: random.Random, n: int = 20, temperature: float = 0.5,
         prefix: str = "") -> list[str]:
    """`n` names, each started at the bell (then `prefix`) and ended at the bell or the block size."""
    if n < 0:
        raise OmakaseError(f"the number of names must be >= 0, got {n}")
    sampler = Sampler(temperature, rng=rng)
    block_size = engine.config.block_size
    start = [tokenizer.bos] + tokenizer.ids(prefix, "the prefix")
    if len(start) > block_size:
        raise OmakaseError(f"the prefix is {len(prefix)} courses long; at most {block_size - 1} fit in the block")
    model = Model(engine, tokenizer)
    names = []
    for _ in range(n):  # one name after another, from one stream: the reference's order of draws
        made = generate(model, start, sampler=sampler, max_new=block_size, stop=tokenizer.bos)[0]
        names.append(tokenizer.decode(start[1:] + made.text_ids))
    return names


def write(engine, tokenizer: Tokenizer, rng: random.Random, length: int = 300, temperature: float = 1.0,
          prefix: str = "") -> str:
    """A stream model writes on: `length` characters after `prefix` (a newline when none is given).

    A model sees at most block_size characters, so when its block is full it starts again from
    the last half block it wrote (a fresh KV cache) and goes on: it always remembers at least
    half a block.
    """
    sampler = Sampler(temperature, rng=rng)
    block = engine.config.block_size
    model = Model(engine, tokenizer)
    seq = tokenizer.ids(prefix, "the prefix") or [tokenizer.ids("\n")[0] if "\n" in tokenizer.chars else 0]
    start = len(seq)
    window = seq[-block:]
    while len(seq) - start < length:
        room = block - len(window) + 1  # tokens until the block is full
        seq += generate(model, window, sampler=sampler, max_new=min(room, length - (len(seq) - start)))[0].ids
        window = seq[-max(1, block // 2):]
    return tokenizer.decode(seq[start:])


def course_probabilities(engine, tokenizer: Tokenizer, name: str) -> list[tuple[str, float]]:
    """For each course of [name, bell]: the probability Ming gave it, given the courses before it."""
    tokens = tokenizer.encode(name, f"the name {name!r}")
    n = min(engine.config.block_size, len(tokens) - 1)
    cache, out = engine.new_cache(), []
    for pos in range(n):
        probs = softmax(engine.logits(cache, tokens[pos], pos))
        out.append((tokenizer.label(tokens[pos + 1]), probs[tokens[pos + 1]]))
    return out


def course_penalty(engine, tokens: list[int], pos: int) -> float:
    """-ln p(tokens[pos + 1]) after tokens[: pos + 1]: the diner's penalty for one course."""
    cache = engine.new_cache()
    for p in range(pos + 1):
        logits = engine.logits(cache, tokens[p], p)
    return -math.log(softmax(logits)[tokens[pos + 1]])
