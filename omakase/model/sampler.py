"""How the next token is chosen: the risk dial (temperature), a short list (top-k) and a seeded stream.

At temperature 0 the likeliest token is taken (the same menu every time).
Otherwise the logits are divided by the temperature, only the top_k likeliest
are kept when top_k > 0, and one token is drawn with `random.choices` over
their softmax, computed with the reference microgpt's float operations, from
the sampler's `random.Random` stream. That is how the reference samples its 20
names, so with the run's stream every engine cooks the reference's names; and
it is how every model here samples (Ming, the assistant, speculative decoding's
draws), so a seed means the same thing everywhere.

A new way of choosing (say top-p) is one more value checked in __init__ and one
more step in `probabilities` (see omakase/model/__init__.py): generate, cook,
write, chat, tools, RL rollouts, speculative decoding and the web page all draw
through `pick` and `probabilities`.
"""

from __future__ import annotations

import math
import random
from itertools import accumulate

from ..errors import OmakaseError


def softmax(logits: list[float], temperature: float = 1.0, exp=math.exp) -> list[float]:
    """Probabilities from logits / temperature, with the reference's float operations (x * t**-1, exp(x - max),
    a left-to-right sum, e * total**-1): the same floats, computed without the steps that change nothing
    (scaling by 1.0), because the assistant samples from thousands of tokens at every step."""
    inv_t = temperature**-1
    scaled = logits if inv_t == 1.0 else [x * inv_t for x in logits]
    top = max(scaled)
    exps = [exp(x - top) for x in scaled]
    total = 0.0
    for total in accumulate(exps, initial=0.0):  # left to right, as the reference adds (sum() may not)
        pass
    inv = total**-1
    return [e * inv for e in exps]


def argmax(logits: list[float]) -> int:
    """The first of the likeliest tokens."""
    return max(range(len(logits)), key=logits.__getitem__)


class Sampler:
    """temperature >= 0 (0: always the likeliest), top_k >= 0 (0: every token), and the stream to draw from:
    `rng` when given (e.g. a run's own stream), else a fresh random.Random(seed)."""

    def __init__(self, temperature: float = 1.0, top_k: int = 0, seed: int | None = 0,
                 rng: random.Random | None = None):
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature):
            raise OmakaseError(f"temperature must be a finite number, got {temperature!r}")
        if temperature < 0:
            raise OmakaseError(f"temperature must be >= 0 (0 = always the most likely token), got {temperature}")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
            raise OmakaseError(f"top-k must be a whole number >= 0 (0 = every token), got {top_k!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise OmakaseError(f"the seed must be a whole number, got {seed!r}")
        self.temperature, self.top_k = float(temperature), top_k
        self.rng = rng if rng is not None else random.Random(seed)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def probabilities(self, logits: list[float]) -> list[float]:
        """The distribution `pick` draws from (one-hot on the likeliest token at temperature 0)."""
        if self.greedy:
            best = argmax(logits)
            return [float(i == best) for i in range(len(logits))]
        if 0 < self.top_k < len(logits):
            kth = sorted(logits, reverse=True)[self.top_k - 1]
            logits = [x if x >= kth else -math.inf for x in logits]
        probs = softmax(logits, self.temperature)
        return probs

    def pick(self, logits: list[float]) -> int:
        """The next token for these logits."""
        if self.greedy:
            return argmax(logits)
        return self.draw(self.probabilities(logits))

    def draw(self, probabilities: list[float]) -> int:
        """One token drawn from a distribution, from this sampler's stream."""
        return self.rng.choices(range(len(probabilities)), weights=probabilities)[0]
