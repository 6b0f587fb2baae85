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
            token = pick(logits, temperature, rng)
            if token == tokenizer.bos:
                break
            seq.append(token)
        names.append(tokenizer.decode(seq[1:]))
    return names


def pick(logits: list[float], temperature: float, rng: random.Random) -> int:
    """The next course: the most likely at temperature 0, else one drawn from softmax(logits / temperature)."""
    if temperature == 0:
        return max(range(len(logits)), key=logits.__getitem__)
    return rng.choices(range(len(logits)), weights=softmax(logits, temperature))[0]


def write(engine, tokenizer: Tokenizer, rng: random.Random, length: int = 300, temperature: float = 1.0,
          prefix: str = "") -> str:
    """A stream model writes on: `length` characters after `prefix` (a newline when none is given).

    A model sees at most block_size characters, so when its block is full it starts a fresh
    KV cache from the last half block it wrote and goes on: it always remembers at least
    half a block.
    """
    if temperature < 0:
        raise OmakaseError(f"temperature must be >= 0, got {temperature}")
    block = engine.config.block_size
    seq = tokenizer.ids(prefix, "the prefix") or [tokenizer.ids("\n")[0] if "\n" in tokenizer.chars else 0]
    start, cache, pos = len(seq), None, block
    while len(seq) - start < length:
        if pos == block:  # the block is full (or nothing is served yet): serve the recent courses again
            window = seq[-block:] if cache is None else seq[-max(1, block // 2):]
            cache, pos = engine.new_cache(), 0
            for token in window[:-1]:
                engine.logits(cache, token, pos)
                pos += 1
        seq.append(pick(engine.logits(cache, seq[-1], pos), temperature, rng))
        pos += 1
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
