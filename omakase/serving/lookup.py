"""Prompt lookup: speculative decoding with no draft model; the context drafts itself.

Text repeats itself: a name in a story, an identifier in code, the question quoted in its
answer. To draft, find the sequence's last n tokens earlier in the sequence (the longest n
first, the most recent place) and propose the k tokens that followed them there. Drafting
costs a string search, no forward pass at all; the target then verifies the drafts exactly as
speculate.py does: ONE forward pass over the unseen tail and the drafts, keep the longest
prefix it agrees with plus one token of its own. When nothing matches, the round is a plain
decoding step.

A drafted token is certain (its q is one-hot), so Leviathan's rule still applies when
sampling: the draft x is kept with probability min(1, p(x) / 1) = p(x), and on a rejection the
token is drawn from norm(max(0, p - q)): p without x. The output is distributed as the
target's own samples; at temperature 0 it is the target's greedy output, token for token.
"""

from __future__ import annotations

from ..model import Model, Sampler
from .speculate import Stats, verified

MAX_NGRAM = 3  # the longest tail looked up; a longer match predicts better but is found less often


def propose(seq: list[int], k: int, max_ngram: int = MAX_NGRAM) -> list[int]:
    """Up to k tokens that followed the most recent earlier occurrence of seq's last n tokens, for n from
    max_ngram down to 1; [] when no tail occurs earlier."""
    for n in range(min(max_ngram, len(seq) - 1), 0, -1):
        tail = seq[-n:]
        for start in range(len(seq) - n - 1, -1, -1):  # the most recent earlier occurrence first
            if seq[start:start + n] == tail:
                return seq[start + n:start + n + k]
    return []


def lookup_generate(target: Model, prompt_ids: list[int], n_new: int, k: int, sampler: Sampler,
                    stop_at: int | None = None, max_ngram: int = MAX_NGRAM) -> tuple[list[int], Stats]:
    """n_new tokens after prompt_ids (fewer if `stop_at` comes out), up to k drafted per round by prompt
    lookup and verified by the target in one pass (speculate.verified). Stats.draft_calls stays 0."""
    return verified(target, Lookup(max_ngram), prompt_ids, n_new, k, sampler, stop_at)


class Lookup:
    """Prompt lookup as a drafter: no model, no cache; a drafted token is certain (q None: one-hot)."""

    def __init__(self, max_ngram: int = MAX_NGRAM):
        self.max_ngram = max_ngram

    def propose(self, seq: list[int], k: int, stats: Stats) -> tuple[list[int], list]:
        drafts = propose(seq, k, self.max_ngram)
        return drafts, [None] * len(drafts)

    def kept(self, n: int, drafted: int, accepted: int) -> None:
        pass
