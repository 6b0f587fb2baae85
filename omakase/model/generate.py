"""Generating: the one decode loop. Every model here writes through `generate`.

The prompt goes in (one forward pass on the torch engine; token by token on
the scalar and numpy engines, as the reference serves it), then each step the
sampler picks a token per row from the logits after the row's last token, and
the new tokens go in at the next position. With n > 1 (or a batch of equally
long prompts) the rows decode side by side: ONE forward pass per step for the
whole batch on the torch engine, and the rows draw in turn from the sampler's
one stream.

A row ends when it writes a `stop` token (reason "stop", the token kept),
after `max_new` tokens of its own ("length"), when the next token would not
fit in the block ("block", the token kept: a block of 16 holds 16 inputs, and
the logits after the 16th give a 17th token), or when its tools refuse more
calls ("calls").

Tools are a feature of decoding: after every token the model writes,
`tools.answer(ids)` may return tokens to feed in (a call closed: its result);
they go into the sequence and the cache as if the model had read them, marked
written=False. Tokens in `banned` and `tools.banned` are never drawn.

cache=False recomputes the whole sequence every step instead: the oracle for
the cache (the same tokens, token for token), and the only way a backend
without a cache (an ONNX graph, a quantized module) decodes.

on_step(row, ids), when given, is told after every step what each row gained
(the token written, then a tool's answer when one went in): the pieces, in
order, of that row's Generated.ids, so a reply can be shown as it is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from ..errors import OmakaseError
from .kv_cache import KVCache
from .sampler import Sampler

STOP, LENGTH, BLOCK, CALLS = "stop", "length", "block", "calls"


class ToolLimit(Exception):
    """Raised by Tools.answer when a reply may make no more calls."""


class Tools(Protocol):
    banned: Sequence[int]  # tokens only a tool writes (a result's markers)

    def answer(self, ids: list[int]) -> list[int] | None:
        """After the model wrote ids[-1]: the tokens a tool answers with, or None when no call closed."""

    def fed(self) -> None:
        """The last answer went in (it fit in the block)."""


@dataclass
class Generated:
    ids: list[int] = field(default_factory=list)  # every new token, the stop token included when it came
    written: list[bool] = field(default_factory=list)  # per new token: True when the model wrote it
    reason: str = LENGTH  # STOP, LENGTH, BLOCK or CALLS

    @property
    def stopped(self) -> bool:
        return self.reason == STOP

    @property
    def text_ids(self) -> list[int]:
        """The new tokens without the stop token."""
        return self.ids[:-1] if self.stopped else self.ids


def generate(model, prompt: Sequence[int] | Sequence[Sequence[int]], *, sampler: Sampler, max_new: int,
             stop: int | Sequence[int] | None = None, tools: Tools | None = None, n: int = 1,
             banned: Sequence[int] = (), cache: bool = True,
             on_step: Callable[[int, list[int]], None] | None = None) -> list[Generated]:
    """What `model` (anything with an .engine) writes after `prompt`: a list of token ids (n rows of it)
    or a list of equally long prompts (one row each). One Generated per row."""
    engine = model.engine
    block = engine.config.block_size
    prompts = _rows(prompt, n)
    if max_new < 0 or isinstance(max_new, bool) or not isinstance(max_new, int):
        raise OmakaseError(f"max_new must be a whole number >= 0, got {max_new!r}")
    if len(prompts[0]) > block:
        raise OmakaseError(f"the prompt is {len(prompts[0])} tokens, but this model reads at most {block}; shorten it")
    if tools is not None and len(prompts) > 1:  # answers differ in length per row: the rows go one by one
        return [generate(model, p, sampler=sampler, max_new=max_new, stop=stop, tools=tools, banned=banned,
                         cache=cache, on_step=_as_row(on_step, r))[0] for r, p in enumerate(prompts)]
    stops = {stop} if isinstance(stop, int) else set(stop or ())
    never = sorted(set(banned) | set(tools.banned if tools is not None else ()))
    seqs = [list(p) for p in prompts]
    outs = [Generated() for _ in prompts]
    live = list(range(len(prompts)))
    if max_new == 0:
        return outs
    kv = KVCache(engine, len(prompts)) if cache else None
    logits = kv.feed(prompts) if cache else engine.logits_recomputed(prompts)
    while True:
        feeds = {}
        before = [len(out.ids) for out in outs]
        for r in live:
            out, seq, row = outs[r], seqs[r], logits[r]
            if never:
                row = list(row)
                for t in never:
                    row[t] = -math.inf
            token = sampler.pick(row)
            out.ids.append(token)
            out.written.append(True)
            if token in stops:
                out.reason = STOP
                continue
            feed = [token]
            if tools is not None:
                try:
                    feed += tools.answer(out.ids) or []
                except ToolLimit:
                    out.reason = CALLS
                    continue
            if len(seq) + len(feed) > block:
                out.reason = BLOCK
                continue
            if len(feed) > 1:
                tools.fed()
                out.ids += feed[1:]
                out.written += [False] * (len(feed) - 1)
            seq += feed
            if sum(out.written) == max_new:
                continue  # LENGTH, the default
            feeds[r] = feed
        if on_step is not None:
            for r in live:
                on_step(r, outs[r].ids[before[r]:])
        live = [r for r in live if r in feeds]
        if not live:
            return outs
        if not cache:
            fresh = engine.logits_recomputed([seqs[r] for r in live])
            logits = dict(zip(live, fresh))
        elif len(outs) == 1:
            logits = kv.feed([feeds[0]])
        else:  # one batched step: a finished row is fed its last token again, and its logits are ignored
            logits = kv.feed([feeds.get(r, [outs[r].ids[-1]]) for r in range(len(outs))])


def _as_row(on_step, row: int):
    """on_step for one prompt of a batch decoded alone: told that prompt's row."""
    return None if on_step is None else (lambda _, ids: on_step(row, ids))


def _rows(prompt, n: int) -> list[list[int]]:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise OmakaseError(f"n (rows to generate) must be a whole number >= 1, got {n!r}")
    if len(prompt) and isinstance(prompt[0], (list, tuple)):
        rows = [list(p) for p in prompt]
        if n != 1:
            raise OmakaseError("give n rows of one prompt or a batch of prompts, not both")
    else:
        rows = [list(prompt)] * n
    if not rows or not rows[0]:
        raise OmakaseError("the prompt is empty; a model needs at least one token to go on from")
    if len({len(r) for r in rows}) != 1:
        raise OmakaseError(f"prompts decoded together must be equally long, got lengths {sorted({len(r) for r in rows})}")
    return rows
