"""Frosting while it bakes: speculative decoding.

A small Ming (the draft) writes k courses ahead, one cheap forward pass each;
the big Ming (the target) then checks all k in ONE forward pass of k+1
positions with its KV cache, and keeps the longest prefix it agrees with plus
one token of its own. With the rejection rule of Leviathan, Kalman & Matias
(2023), "Fast Inference from Transformers via Speculative Decoding", the
tokens are distributed exactly as the target's own samples: a drafted x (drawn
from the draft's q) is accepted with probability min(1, p(x)/q(x)); on a
rejection the token is drawn from the residual norm(max(0, p - q)); if all k
are accepted, one bonus token is drawn from p. Then
P(out = x) = q(x) min(1, p(x)/q(x)) + P(reject) residual(x) = p(x).
At temperature 0 the rule becomes: accept while the draft's token is the
target's argmax, so the output is the target's greedy output, token for token.

Both models are omakase.model Models decoding through their KV caches
(model.KVCache); every draw (the draft's proposals, the acceptance uniforms,
the residual and the bonus token) comes from one model.Sampler, so p and q are
the sampler's distributions (its temperature and top-k) and a seed means what
it means in generate. The target alone is generate itself.

It pays only when a draft call is much cheaper than a target call: measure()
times both and says what happened here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import inference
from ..config import count_params
from ..errors import OmakaseError
from ..model import KVCache, Model, Sampler, generate
from ..model.sampler import argmax
from . import frozen
from .measured import Measured, Plot
from ..timing import alternate_seconds, machine, median_seconds


@dataclass
class Stats:
    drafted: int = 0  # tokens the draft proposed
    accepted: int = 0  # of those, how many the target kept
    target_calls: int = 0  # target forward passes
    draft_calls: int = 0  # draft forward passes

    def add(self, other: "Stats") -> None:
        for name in ("drafted", "accepted", "target_calls", "draft_calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def check_vocabulary(target: Model, draft: Model) -> None:
    """The draft's token ids must mean what the target's mean, or its proposals are nonsense to the target."""
    chars = lambda m: getattr(m.tokenizer, "chars", None)  # noqa: E731
    if target.config.vocab_size != draft.config.vocab_size or chars(target) != chars(draft):
        shown = lambda m: f"{m.config.vocab_size} tokens" + (f", {chars(m)!r}" if chars(m) else "")  # noqa: E731
        raise OmakaseError(f"the draft's vocabulary ({shown(draft)}) is not the target's ({shown(target)}): "
                           "train the draft on the same data as the target, so both share one tokenizer")


def residual(p: list[float], q: list[float]) -> list[float]:
    """norm(max(0, p - q)): where the target wants more than the draft gave. When p == q there is none,
    and then a rejection never happens; p stands in so the row is still a distribution."""
    extra = [max(0.0, a - b) for a, b in zip(p, q)]
    total = sum(extra)
    return [e / total for e in extra] if total > 0 else list(p)


def accept_or_resample(p: list[float], q: list[float], drafted: int, sampler: Sampler) -> int | None:
    """Leviathan's rule for one drafted token x drawn from q: None when it is accepted (with probability
    min(1, p(x)/q(x))), else the replacement drawn from residual(p, q). Both draws come from the
    sampler's stream."""
    if sampler.rng.random() * q[drafted] < p[drafted]:  # u < p/q without dividing; always when p(x) >= q(x)
        return None
    return sampler.draw(residual(p, q))


def speculative_generate(target: Model, draft: Model, prompt_ids: list[int], n_new: int, k: int,
                         sampler: Sampler, stop_at: int | None = None) -> tuple[list[int], Stats]:
    """n_new tokens after prompt_ids (fewer if `stop_at`, e.g. the bell, comes out), the draft proposing
    k per round and the target verifying them in one pass. Distributed as the target's own samples
    drawn by `sampler` (its temperature and top-k shape both p and q)."""
    check_vocabulary(target, draft)
    if len(prompt_ids) + n_new - 1 > draft.config.block_size:
        raise OmakaseError(f"{len(prompt_ids)} prompt tokens and {n_new} new ones do not fit in a block of "
                           f"{draft.config.block_size}")
    return verified(target, DraftModel(draft, sampler), prompt_ids, n_new, k, sampler, stop_at)


class DraftModel:
    """A small model as the drafter: k cheap forward passes a round, through its own KV cache."""

    def __init__(self, draft: Model, sampler: Sampler):
        self.cache, self.sampler = KVCache(draft.engine), sampler

    def propose(self, seq: list[int], k: int, stats: Stats) -> tuple[list[int], list]:
        """k drafted tokens and the draft's distribution q for each (None at temperature 0: not needed)."""
        drafts, qs, feed = [], [], seq[self.cache.pos:]
        for _ in range(k):
            logits = self.cache.feed([feed])[0]
            stats.draft_calls += 1
            token = self.sampler.pick(logits)
            drafts.append(token)
            qs.append(None if self.sampler.greedy else self.sampler.probabilities(logits))
            feed = [token]
        return drafts, qs

    def kept(self, n: int, drafted: int, accepted: int) -> None:
        """After the round: the draft's cache forgets the positions the target rejected."""
        if drafted:
            self.cache.rewind(min(n + drafted - 1, n + accepted))


def verified(target: Model, drafter, prompt_ids: list[int], n_new: int, k: int, sampler: Sampler,
             stop_at: int | None = None) -> tuple[list[int], Stats]:
    """Speculative decoding with any drafter (`propose(seq, k, stats) -> (drafts, qs)`, `kept(n, drafted,
    accepted)`): each round the target verifies the drafts in ONE pass over the unseen tail and the drafts,
    keeps the longest prefix Leviathan's rule accepts, and adds one token of its own."""
    if k < 1:
        raise OmakaseError("k (tokens drafted per round) must be at least 1")
    seq, end = list(prompt_ids), len(prompt_ids) + n_new
    if end - 1 > target.config.block_size:
        raise OmakaseError(f"{len(seq)} prompt tokens and {n_new} new ones do not fit in a block of "
                           f"{target.config.block_size}")
    target_cache, stats = KVCache(target.engine), Stats()
    while len(seq) < end:
        n = len(seq)
        drafts, qs = drafter.propose(seq, min(k, end - n - 1), stats)  # never past n_new (nor past the block)
        drafted = len(drafts)
        # one target pass over the unseen tail of seq and the drafts: drafted+1 next-token distributions
        rows = target_cache.feed([seq[target_cache.pos:] + drafts], every=True)[0][-(drafted + 1):]
        stats.target_calls += 1
        if sampler.greedy:  # accept while the draft's token is the target's argmax
            best = [argmax(row) for row in rows]
            a = 0
            while a < drafted and drafts[a] == best[a]:
                a += 1
            last = best[a]
        else:
            a, last = 0, None
            while a < drafted:
                # a drafter with no distribution (prompt lookup: q None) drafted with certainty: q is one-hot
                q = qs[a] if qs[a] is not None else [float(i == drafts[a]) for i in range(len(rows[a]))]
                last = accept_or_resample(sampler.probabilities(rows[a]), q, drafts[a], sampler)
                if last is not None:
                    break
                a += 1
            if last is None:  # every draft accepted: the bonus token, from p
                last = sampler.pick(rows[drafted])
        stats.drafted, stats.accepted = stats.drafted + drafted, stats.accepted + a
        seq += drafts[:a] + [last]
        # rejected positions are forgotten; they are overwritten when those positions come again
        target_cache.rewind(n + a)
        drafter.kept(n, drafted, a)
        if stop_at is not None and stop_at in seq[n:]:
            seq = seq[: seq.index(stop_at, n) + 1]
            break
    return seq[len(prompt_ids):], stats


def call_seconds(model: Model, positions: int, repeats: int = 5, calls: int = 50) -> float:
    """Median seconds of one forward pass over `positions` tokens with a cache (averaged over `calls`),
    as generate makes it (logits handed back as lists)."""
    cache, ids = KVCache(model.engine), [[0] * positions]

    def run():
        for _ in range(calls):
            cache.rewind(0)
            cache.feed(ids)
    return median_seconds(run, repeats, warmup=1).median / calls


def prompts_of(tokenizer, held_out: list[list[int]] | None = None, count: int = 4,
               stream_length: int = 8) -> list[list[int]]:
    """Names (held_out None): the bell alone and bell + a letter. A stream: the first characters of
    held-out blocks."""
    if held_out is not None:
        if not held_out:
            raise OmakaseError("no held-out text: the checkpoint's data is not on this machine")
        return [block[:stream_length] for block in held_out[:count]]
    letters = [c for c in "amkj" if c in tokenizer.chars][: count - 1]
    return [[tokenizer.bos]] + [[tokenizer.bos] + tokenizer.ids(c) for c in letters]


def measure(target: Model, draft: Model, ks=(1, 2, 3, 4, 6, 8), n_new: int | None = None, repeats: int = 5,
            temperature: float = 0.0, seed: int = 0, progress=None) -> Measured:
    """Acceptance rate and speed-up against k: speculative decoding vs the target alone, same prompts and lengths."""
    check_vocabulary(target, draft)
    stream = inference.is_stream(target)
    prompts = prompts_of(target.tokenizer, frozen.held_out(target) if stream else None)
    fits = min(target.config.block_size, draft.config.block_size) - max(map(len, prompts)) + 1
    n_new = fits if n_new is None else min(n_new, fits)
    stop = None if stream else target.tokenizer.bos  # a name ends at the bell
    greedy = [generate(target, p, sampler=Sampler(0.0), max_new=n_new, stop=stop)[0].ids for p in prompts]
    sampler = lambda: Sampler(temperature, seed=seed)  # noqa: E731  the same draws in every repeat

    def speculative(k):
        one, outs, stats = sampler(), [], Stats()
        for p in prompts:
            out, s = speculative_generate(target, draft, p, n_new, k, one, stop)
            outs.append(out), stats.add(s)
        return outs, stats

    def alone():
        one = sampler()
        return [generate(target, p, sampler=one, max_new=n_new, stop=stop)[0].ids for p in prompts]

    tokens = sum(map(len, alone()))  # at temperature 0 both ways make exactly these (checked below)

    total = len(ks) + 1
    draft_s, target_s = call_seconds(draft, 1, repeats), call_seconds(target, 1, repeats)
    if progress:
        progress(1, total, "one forward pass of each model")
    rows, ceilings = [], []
    for i, k in enumerate(ks):
        outs, stats = speculative(k)
        verify_s = call_seconds(target, k + 1, repeats)
        spec_t, base_t = alternate_seconds([lambda: speculative(k), alone], repeats)
        spec_tokens = sum(map(len, outs))  # sampling may stop at the bell sooner or later than alone
        per_call = spec_tokens / stats.target_calls  # tokens per round
        round_s = stats.draft_calls / stats.target_calls * draft_s + verify_s
        ceilings.append((k + 1) * target_s / (k * draft_s + verify_s))  # every draft accepted
        speculative_rate, alone_rate = spec_tokens / spec_t.median, tokens / base_t.median
        rows.append([k, stats.accepted / stats.drafted, per_call, speculative_rate, alone_rate,
                     speculative_rate / alone_rate, per_call * target_s / round_s, max(spec_t.spread, base_t.spread),
                     outs == greedy if temperature == 0 else None])
        if progress:
            progress(i + 2, total, f"k={k}")
    m = Measured("speculate", "Speculative decoding: a small Ming drafts k tokens, the big one verifies them",
                 ["k", "acceptance rate", "tokens per target call", "speculative tokens/s",
                  "target alone tokens/s", "speed-up", "predicted speed-up", "timing spread",
                  "identical to greedy"], rows)
    best = max(rows, key=lambda r: r[5])
    claim = "held" if 2 <= best[5] <= 3 else "was beaten" if best[5] > 3 else "did not hold"
    weights = count_params(draft.config) / count_params(target.config)
    m.notes = [
        f"best speed-up {best[5]:.2f}x at k={best[0]} ({best[3]:.0f} vs {best[4]:.0f} tokens/s, median of {repeats})",
        f"the analogy's '2-3x faster' {claim} here: {best[5]:.2f}x at best, {min(r[5] for r in rows):.2f}x at worst",
        f"one draft forward pass takes {draft_s * 1e3:.3f} ms, one target pass {target_s * 1e3:.3f} ms: the draft "
        f"costs {draft_s / target_s:.2f} of a target call while holding {weights:.3f} of its weights; "
        "speculation pays only when a draft call is far cheaper than a target call",
        f"even with every draft accepted, these call times cap the speed-up at {max(ceilings):.2f}x "
        f"(k={ks[ceilings.index(max(ceilings))]}); 'predicted speed-up' is the same sum with the measured "
        "acceptance: tokens per round x target call / (draft calls + one verifying call)",
        f"the repeats' timings spread (max - min over median) by up to {max(r[7] for r in rows):.0%}: "
        "a speed-up closer to 1 than that spread is not told apart from none",
        f"acceptance rate {rows[0][1]:.2f} at k={rows[0][0]}, {rows[-1][1]:.2f} at k={rows[-1][0]}",
    ]
    if temperature == 0:
        m.notes.append(f"output identical to the target's greedy output for {sum(r[8] for r in rows)} of {len(rows)} k")
    if not stream:
        m.notes.append(f"a names model has a block of {target.config.block_size} positions and a name ends at the "
                       f"bell: the {len(prompts)} prompts made {tokens} tokens in all")
    m.plot = Plot("k", ["speed-up", "acceptance rate"], "k (tokens drafted per round)", "ratio")
    m.setup = {"target": target.config.to_dict(), "draft": draft.config.to_dict(),
               "dtype": str(target.network.w("wte").dtype).replace("torch.", ""), "repeats": repeats,
               "temperature": temperature, "seed": seed, "n_new": n_new,
               "prompts": [target.tokenizer.decode(p) or "<bell>" for p in prompts],
               "draft call ms": draft_s * 1e3, "target call ms": target_s * 1e3, **machine()}
    return m
