"""Whipped cream kept in the fridge: the KV cache.

Each sous chef (attention head) looks back at every earlier course. Without
notes he re-reads the whole menu so far at every new course: step n costs a
forward pass over n positions, and a whole menu of N costs about N²/2. With
his notebook (the cache of keys and values) step n costs one position, plus
reading n cached keys. This measures both, at batch 1, greedy, from the bell:
the same tokens either way (checked), tokens per second against the number
generated, and the memory the notebooks take.

The physical bound: at batch 1 every generated token reads every weight once,
so tokens/s can be at most memory bandwidth / weight bytes (measured here);
a tiny model sits far below it, held back by per-call overhead, not by memory.
"""

from __future__ import annotations

from ..model import Model, Sampler, generate
from .frozen import weight_bytes
from .measured import Measured, Plot
from ..timing import alternate_seconds, machine, memory_bandwidth


def cache_bytes(model: Model, batch: int, positions: int) -> int:
    """Bytes the cache holds after `positions` positions: keys and values, every layer and head."""
    cfg = model.config
    return 2 * cfg.n_layer * batch * positions * cfg.n_embd * model.network.w("wte").element_size()


def greedy(model: Model, prompt: list[int], n: int, cache: bool = True) -> list[int]:
    """n greedy tokens after the prompt, with the KV cache or recomputing the prefix at every step."""
    return generate(model, prompt, sampler=Sampler(0.0), max_new=n, cache=cache)[0].ids


def lengths_for(block_size: int) -> list[int]:
    """Tokens to generate from the bell: powers of two up to the block (the bell takes one position)."""
    out, n = [], 1
    while n < block_size:
        out.append(n)
        n *= 2
    return out + [block_size] if out[-1] != block_size else out


def measure(model: Model, lengths: list[int] | None = None, repeats: int = 5, progress=None) -> Measured:
    cfg = model.config
    lengths = lengths or lengths_for(cfg.block_size)
    prompt = [model.tokenizer.bos]
    bandwidth = memory_bandwidth()
    bound = bandwidth / weight_bytes(model.network)  # tokens/s if reading the weights were the only cost
    rows = []
    for i, n in enumerate(lengths):
        same = greedy(model, prompt, n) == greedy(model, prompt, n, cache=False)
        cached_t, recomputed_t = alternate_seconds([lambda: greedy(model, prompt, n),
                                                    lambda: greedy(model, prompt, n, cache=False)], repeats)
        cached, recomputed = cached_t.median, recomputed_t.median
        rows.append([n, round(n / recomputed, 1), round(n / cached, 1), round(recomputed / cached, 2),
                     cache_bytes(model, 1, n), same, round(max(cached_t.spread, recomputed_t.spread), 3)])
        if progress:
            progress(i + 1, len(lengths), f"{n} tokens")
    measured = Measured(
        "kv", "KV cache: generating with the keys and values kept vs recomputing the prefix",
        ["tokens", "recomputed tokens/s", "cached tokens/s", "speed-up", "cache bytes", "same tokens", "spread"], rows,
        plot=Plot("tokens", ["speed-up"], "tokens generated (batch 1, greedy)", "cached / recomputed tokens/s",
                  logx=True),
        setup={"dtype": str(model.network.w("wte").dtype).removeprefix("torch."), "repeats": repeats, "batch": 1,
               "spread": "(slowest - fastest) / median of the repeats, the larger of the two timings",
               "weight_bytes": weight_bytes(model.network), "memory_bandwidth_GB_s": round(bandwidth / 1e9, 1),
               "bound_tokens_s": round(bound), **machine()})
    measured.notes = notes(measured, bound)
    return measured


def notes(m: Measured, bound: float) -> list[str]:
    tokens, speedup, cached = m.column("tokens"), m.column("speed-up"), m.column("cached tokens/s")
    same = all(m.column("same tokens"))
    out = [f"With the cache, {tokens[-1]} tokens come {speedup[-1]:.2f}x as fast as recomputing the prefix "
           f"({speedup[0]:.2f}x for {tokens[0]} token{'s' if tokens[0] != 1 else ''}).",
           "The tokens were identical both ways at every length." if same else
           "The tokens differed at some length (float rounding between the two paths changed an argmax).",
           f"Reading the weights ({m.setup['weight_bytes']:,} bytes) at the measured "
           f"{m.setup['memory_bandwidth_GB_s']} GB/s would allow about {bound:,.0f} tokens/s; the cached path "
           f"reached {max(cached):,.0f} ({max(cached) / bound:.1%} of that bound)"
           + (": per-call overhead, not memory, sets the pace of a model this small." if max(cached) < bound / 2
              else ": reading the weights is what limits it.")]
    return out
