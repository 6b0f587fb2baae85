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

from ..errors import OmakaseError
from ..model import KVCache, Model, Sampler
from ..model.sampler import argmax
from .speculate import Stats, accept_or_resample

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
    lookup and verified by the target in one pass. Stats.draft_calls stays 0: no model drafts."""
    if k < 1:
        raise OmakaseError("k (tokens drafted per round) must be at least 1")
    seq, end = list(prompt_ids), len(prompt_ids) + n_new
    if end - 1 > target.config.block_size:
        raise OmakaseError(f"{len(seq)} prompt tokens and {n_new} new ones do not fit in a block of "
                           f"{target.config.block_size}")
    cache, stats = KVCache(target.engine), Stats()
    while len(seq) < end:
        n = len(seq)
        drafts = propose(seq, min(k, end - n - 1), max_ngram)  # never past n_new (nor past the block)
        rows = cache.feed([seq[cache.pos:] + drafts], every=True)[0][-(len(drafts) + 1):]
        stats.target_calls += 1
        a, last = 0, None
        while a < len(drafts):
            if sampler.greedy:
                last = None if drafts[a] == argmax(rows[a]) else argmax(rows[a])
            else:
                certain = [float(i == drafts[a]) for i in range(len(rows[a]))]
                last = accept_or_resample(sampler.probabilities(rows[a]), certain, drafts[a], sampler)
            if last is not None:
                break
            a += 1
        if last is None:  # every draft kept (or none made): the target's own next token
            last = sampler.pick(rows[len(drafts)])
        stats.drafted, stats.accepted = stats.drafted + len(drafts), stats.accepted + a
        seq += drafts[:a] + [last]
        cache.rewind(n + a)  # the rejected drafts' positions are overwritten when they come again
        if stop_at is not None and stop_at in seq[n:]:
            seq = seq[: seq.index(stop_at, n) + 1]
            break
    return seq[len(prompt_ids):], stats
