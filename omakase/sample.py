"""Graduation: Ming cooks alone, course by course, with the risk dial set by the door.

At each position the engine gives logits for the next course; dividing them by
the temperature and taking a softmax gives the probabilities; one course is
drawn with `random.choices`, exactly as the reference does, so the same
random stream gives the same names with any engine. Temperature 0 means
always the most likely course: the same menu every time. The bell (BOS) ends
a menu.
"""

from __future__ import annotations

import math
import random

from .errors import OmakaseError
from .tokenizer import Tokenizer


def softmax(logits: list[float], temperature: float = 1.0) -> list[float]:
    """Probabilities from logits / temperature, with the reference's float operations."""
    scaled = [x * temperature**-1 for x in logits]
    top = max(scaled)
    exps = [math.exp(x - top) for x in scaled]
    total = 0.0
    for e in exps:  # left to right, as the reference adds
        total += e
    inv = total**-1
    return [e * inv for e in exps]


def cook(engine, tokenizer: Tokenizer, rng: random.Random, n: int = 20, temperature: float = 0.5,
         prefix: str = "") -> list[str]:
    """`n` names, each started at the bell (then `prefix`) and ended at the bell or the block size."""
    if temperature < 0:
        raise OmakaseError(f"temperature must be >= 0 (0 = always the most likely course), got {temperature}")
    if n < 0:
        raise OmakaseError(f"the number of names must be >= 0, got {n}")
    block_size = engine.config.block_size
    start = [tokenizer.bos] + tokenizer.ids(prefix, "the prefix")
    if len(start) > block_size:
        raise OmakaseError(f"the prefix is {len(prefix)} courses long; at most {block_size - 1} fit in the block")
    names = []
    for _ in range(n):
        cache, seq = engine.new_cache(), list(start)
        for pos in range(block_size):
            logits = engine.logits(cache, seq[pos], pos)
            if pos < len(seq) - 1:
                continue  # still serving the prefix: nothing to choose yet
            if temperature == 0:
                token = max(range(len(logits)), key=logits.__getitem__)
            else:
                probs = softmax(logits, temperature)
                token = rng.choices(range(tokenizer.vocab_size), weights=probs)[0]
            if token == tokenizer.bos:
                break
            seq.append(token)
        names.append(tokenizer.decode(seq[1:]))
    return names


def course_probabilities(engine, tokenizer: Tokenizer, name: str) -> list[tuple[str, float]]:
    """For each course of [name, bell]: the probability Ming gave it, given the courses before it."""
    tokens = tokenizer.encode(name, f"the name {name!r}")
    n = min(engine.config.block_size, len(tokens) - 1)
    cache, out = engine.new_cache(), []
    for pos in range(n):
        probs = softmax(engine.logits(cache, tokens[pos], pos))
        out.append((tokenizer.label(tokens[pos + 1]), probs[tokens[pos + 1]]))
    return out
