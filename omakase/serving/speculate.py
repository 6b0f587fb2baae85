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

It pays only when a draft call is much cheaper than a target call: measure()
times both and says what happened here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import count_params
from ..engines.torch import GPT
from ..errors import OmakaseError
from .generate import greedy_cached, new_cache, room
from .report import Measured, Plot
from .timing import alternate_seconds, machine, median_seconds


@dataclass
class Stats:
    drafted: int = 0  # tokens the draft proposed
    accepted: int = 0  # of those, how many the target kept
    target_calls: int = 0  # target forward passes
    draft_calls: int = 0  # draft forward passes

    def add(self, other: "Stats") -> None:
        for name in ("drafted", "accepted", "target_calls", "draft_calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def check_vocabulary(target: GPT, draft: GPT, target_chars: str | None = None, draft_chars: str | None = None):
    """The draft's token ids must mean what the target's mean, or its proposals are nonsense to the target."""
    if target.config.vocab_size != draft.config.vocab_size or target_chars != draft_chars:
        raise OmakaseError(
            f"the draft's vocabulary ({draft.config.vocab_size} tokens{f', {draft_chars!r}' if draft_chars else ''}) "
            f"is not the target's ({target.config.vocab_size} tokens{f', {target_chars!r}' if target_chars else ''}): "
            "train the draft on the same data as the target, so both share one tokenizer")


def probabilities(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / temperature) in float64, so the acceptance ratios p/q are not rounded."""
    return torch.softmax(logits.double() / temperature, dim=-1)


def residual(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """norm(max(0, p - q)): where the target wants more than the draft gave. When p == q there is none,
    and then a rejection never happens; p stands in so the row is still a distribution."""
    extra = (p - q).clamp_min(0)
    total = extra.sum(-1, keepdim=True)
    return torch.where(total > 0, extra / total.clamp_min(1e-300), p)


def accept_or_resample(p: torch.Tensor, q: torch.Tensor, drafted: torch.Tensor, generator=None):
    """Leviathan's rule, row by row: (accepted (...) bool, replacement (...) drawn from residual(p, q)).

    p, q: (..., V) target and draft distributions; drafted: (...) tokens drawn from q. Rows are
    independent: for k drafted positions the caller keeps tokens up to the first rejection and
    takes that row's replacement (drawing the uniforms at once changes nothing: they are independent).
    """
    p_x = p.gather(-1, drafted.unsqueeze(-1)).squeeze(-1)
    q_x = q.gather(-1, drafted.unsqueeze(-1)).squeeze(-1)
    u = torch.rand(p_x.shape, generator=generator, dtype=p.dtype)
    accepted = u * q_x < p_x  # u < p/q without dividing; always true when p(x) >= q(x)
    flat = residual(p, q).reshape(-1, p.shape[-1])
    replacement = torch.multinomial(flat, 1, generator=generator).reshape(drafted.shape)
    return accepted, replacement


def _pick(logits: torch.Tensor, temperature: float, generator):
    """(distribution or None, token): the argmax at temperature 0, else a draw from the softmax."""
    if temperature == 0:
        return None, int(logits.argmax())
    probs = probabilities(logits, temperature)
    return probs, int(torch.multinomial(probs, 1, generator=generator))


@torch.inference_mode()
def speculative_generate(target: GPT, draft: GPT, prompt_ids: list[int], n_new: int, k: int,
                         temperature: float = 0.0, generator: torch.Generator | None = None,
                         stop_at: int | None = None) -> tuple[list[int], Stats]:
    """n_new tokens after prompt_ids (fewer if `stop_at`, e.g. the bell, comes out), the draft proposing
    k per round and the target verifying them in one pass. Distributed as the target's own samples."""
    check_vocabulary(target, draft)
    if k < 1:
        raise ValueError("k (tokens drafted per round) must be at least 1")
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    seq, end = list(prompt_ids), len(prompt_ids) + n_new
    room(target, len(seq), n_new)
    room(draft, len(seq), n_new)
    target_cache, draft_cache = new_cache(target), new_cache(draft)
    target_done = draft_done = 0  # positions of seq whose keys and values each cache holds
    stats = Stats()
    while len(seq) < end:
        n = len(seq)
        k_round = min(k, end - n - 1)  # never draft past n_new (nor, by room(), past the block)
        drafts, qs, feed, pos = [], [], seq[draft_done:], draft_done
        for _ in range(k_round):
            logits = draft(torch.tensor([feed]), draft_cache, pos)[0, -1]
            stats.draft_calls += 1
            pos += len(feed)
            q, token = _pick(logits, temperature, generator)
            drafts.append(token)
            qs.append(q)
            feed = [token]
        # one target pass over the unseen tail of seq and the k drafts: k+1 next-token distributions
        logits = target(torch.tensor([seq[target_done:] + drafts]), target_cache, target_done)[0, -(k_round + 1):]
        stats.target_calls += 1
        if temperature == 0:
            best = logits.argmax(-1).tolist()
            a = 0
            while a < k_round and drafts[a] == best[a]:
                a += 1
            last = best[a]
        else:
            p = probabilities(logits, temperature)
            a, last = 0, None
            if k_round:
                accepted, replacement = accept_or_resample(p[:k_round], torch.stack(qs), torch.tensor(drafts),
                                                           generator)
                a = int(accepted.long().cumprod(0).sum())  # accepted up to the first rejection
                last = int(replacement[a]) if a < k_round else None
            if last is None:  # every draft accepted: the bonus token, from p
                last = int(torch.multinomial(p[k_round], 1, generator=generator))
        stats.drafted, stats.accepted = stats.drafted + k_round, stats.accepted + a
        seq += drafts[:a] + [last]
        # rejected positions stay in the caches; they are overwritten when those positions come again
        target_done = n + a
        if k_round:
            draft_done = min(n + k_round - 1, n + a)
        if stop_at is not None and stop_at in seq[n:]:
            seq = seq[: seq.index(stop_at, n) + 1]
            break
    return seq[len(prompt_ids):], stats


@torch.inference_mode()
def sample_generate(target: GPT, prompt_ids: list[int], n_new: int, temperature: float = 0.0,
                    generator: torch.Generator | None = None, stop_at: int | None = None) -> tuple[list[int], Stats]:
    """The baseline: the target alone with its cache, one forward pass per token."""
    room(target, len(prompt_ids), n_new)
    cache, stats, out = new_cache(target), Stats(), []
    logits = target(torch.tensor([list(prompt_ids)]), cache, 0)[0, -1]
    stats.target_calls += 1
    for pos in range(len(prompt_ids), len(prompt_ids) + n_new):
        token = _pick(logits, temperature, generator)[1]
        out.append(token)
        if len(out) == n_new or token == stop_at:
            break
        logits = target(torch.tensor([[token]]), cache, pos)[0, -1]
        stats.target_calls += 1
    return out, stats


def call_seconds(model: GPT, positions: int, repeats: int = 5, calls: int = 50) -> float:
    """Median seconds of one forward pass over `positions` tokens with a cache (averaged over `calls`)."""
    cache, ids = new_cache(model), torch.zeros((1, positions), dtype=torch.long)

    def run():
        with torch.inference_mode():
            for _ in range(calls):
                model(ids, cache, 0)
    return median_seconds(run, repeats, warmup=1).median / calls


def _until(tokens: list[int], stop: int | None) -> list[int]:
    """tokens up to and including the first `stop` (all of them when it never comes)."""
    return tokens[: tokens.index(stop) + 1] if stop is not None and stop in tokens else tokens


def prompts_of(served, count: int = 4, stream_length: int = 8) -> list[list[int]]:
    """Names: the bell alone and bell + a letter. A stream: the first characters of held-out blocks."""
    tok = served.tokenizer
    if served.is_stream:
        if not served.held_out:
            raise OmakaseError("no held-out text: the checkpoint's data is not on this machine")
        return [block[:stream_length] for block in served.held_out[:count]]
    letters = [c for c in "amkj" if c in tok.chars][: count - 1]
    return [[tok.bos]] + [[tok.bos] + tok.ids(c) for c in letters]


def measure(served_target, served_draft, ks=(1, 2, 3, 4, 6, 8), n_new: int | None = None, repeats: int = 5,
            temperature: float = 0.0, seed: int = 0, progress=None) -> Measured:
    """Acceptance rate and speed-up against k: speculative decoding vs the target alone, same prompts and lengths."""
    target, draft = served_target.model, served_draft.model
    check_vocabulary(target, draft, served_target.tokenizer.chars, served_draft.tokenizer.chars)
    prompts = prompts_of(served_target)
    fits = min(target.config.block_size, draft.config.block_size) - max(map(len, prompts)) + 1
    n_new = fits if n_new is None else min(n_new, fits)
    stop = None if served_target.is_stream else served_target.tokenizer.bos  # a name ends at the bell
    greedy = [_until(greedy_cached(target, torch.tensor([p]), n_new)[0].tolist(), stop) for p in prompts]
    gen = lambda: torch.Generator().manual_seed(seed)  # noqa: E731  the same draws in every repeat

    def speculative(k):
        g, outs, stats = gen(), [], Stats()
        for p in prompts:
            out, s = speculative_generate(target, draft, p, n_new, k, temperature, g, stop)
            outs.append(out), stats.add(s)
        return outs, stats

    def alone():
        g = gen()
        return [sample_generate(target, p, n_new, temperature, g, stop)[0] for p in prompts]

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
        f"the seed's '2-3x faster' {claim} here: {best[5]:.2f}x at best, {min(r[5] for r in rows):.2f}x at worst",
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
    if not served_target.is_stream:
        m.notes.append(f"a names model has a block of {target.config.block_size} positions and a name ends at the "
                       f"bell: the {len(prompts)} prompts made {tokens} tokens in all")
    m.plot = Plot("k", ["speed-up", "acceptance rate"], "k (tokens drafted per round)", "ratio")
    m.setup = {"target": served_target.config.to_dict(), "draft": served_draft.config.to_dict(),
               "dtype": str(target.w("wte").dtype).replace("torch.", ""), "repeats": repeats,
               "temperature": temperature, "seed": seed, "n_new": n_new,
               "prompts": [served_target.tokenizer.decode(p) or "<bell>" for p in prompts],
               "draft call ms": draft_s * 1e3, "target call ms": target_s * 1e3, **machine()}
    return m
