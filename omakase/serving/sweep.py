"""Where the KV cache and INT8 start to pay: one GPT at several sizes, on random weights.

Our trained Mings hold 0.2-3 MB of weights and read 16-64 positions: at that size a forward
pass costs mostly its fixed overhead (Python, the framework's dispatch, one small matrix
product after another), so neither the cache nor int8 weights can show what they do for a big
model. A forward pass costs the same whatever numbers its matrices hold, so timing needs no
training: GPTs from 2 layers x 128 wide up to GPT-2 small's 12 x 768 (85 M parameters in its
layers) are made with random weights (engines.torch.init_gpt) and timed decoding ONE token at
batch 1, after `context` tokens:

    KV cache   a step with the cache (one position attending to the context's cached keys and
               values) against recomputing the context (a forward pass over every position;
               the vocabulary projection for the last one only, as a decoder without a cache needs)
    INT8       the cached step in float32 against PyTorch's dynamic int8 quantization
               (quantize.torch_dynamic_int8: nn.Linear weights int8, activations quantized on
               the fly), both as quantize.LinearGPT with its cache

At batch 1 a cached step reads every weight once, so its tokens/s can be at most memory
bandwidth / weight bytes (the bound, measured here). How close a size comes says what limits
it: far below, the per-call overhead; near, reading the weights, and only there can INT8's
quarter of the bytes pay. `findings` turns the rows into those sentences.
"""

from __future__ import annotations

import gc
import time

import torch

from ..config import GPTConfig, count_params
from ..engines.torch import init_gpt
from ..errors import OmakaseError
from ..timing import Timing, alternate_seconds, machine, memory_bandwidth
from .frozen import weight_bytes
from .measured import Measured, Plot
from .quantize import LinearGPT, torch_dynamic_int8

SIZES = ((2, 128), (4, 256), (6, 384), (8, 512), (12, 768))  # (layers, width): 1.6 M to 92 M parameters
CONTEXTS = (64, 256, 1024)
VOCAB = 4096  # a BPE vocabulary of the assistant's order
HEAD_DIM = 64  # GPT-2's: 12 heads at 768 wide
QUICK_SIZES, QUICK_CONTEXTS, QUICK_VOCAB = ((1, 32), (2, 64)), (8, 32), 256  # seconds, for tests and a first look
MAX_CONTEXT = 1024
MAX_PARAMS = 100_000_000
COLUMNS = ["parameters", "layers x width", "context", "recomputed tokens/s", "cached tokens/s", "KV x",
           "float32 tokens/s", "int8 tokens/s", "INT8 x", "float32 MB", "int8 MB", "bound tokens/s", "spread"]


def config_of(n_layer: int, n_embd: int, vocab: int = VOCAB, block: int = MAX_CONTEXT) -> GPTConfig:
    return GPTConfig(vocab, n_layer, n_embd, max(1, n_embd // HEAD_DIM), block)


def configs(max_params: int = MAX_PARAMS, sizes=SIZES, vocab: int = VOCAB, block: int = MAX_CONTEXT) -> list[GPTConfig]:
    """The sizes holding at most max_params parameters (count_params: every matrix, embeddings included)."""
    every = [config_of(n_layer, n_embd, vocab, block) for n_layer, n_embd in sizes]
    kept = [c for c in every if count_params(c) <= max_params]
    if not kept:
        raise OmakaseError(f"--max-params {max_params:,} is below the smallest size ({count_params(every[0]):,} "
                           f"parameters); raise it")
    return kept


def _per_call(fn, budget: float = 0.02) -> tuple[callable, int]:
    """fn looped n times, n chosen so a loop takes about `budget` seconds (a 100 us step is timed as 200 of
    them, where perf_counter's resolution and one stray interrupt no longer matter). Calling fn once here
    is also its first warm-up."""
    start = time.perf_counter()
    fn()
    n = max(1, min(1000, round(budget / max(time.perf_counter() - start, 1e-9))))
    return (lambda: [fn() for _ in range(n)]), n


def _rate(t: Timing, n: int) -> float:
    return n / t.median  # calls per second: one token per call


@torch.inference_mode()
def measure_size(config: GPTConfig, contexts, repeats: int, seed: int = 0, progress=None) -> list[list]:
    """One size's rows: per context, the four decoding steps timed in turns (a, b, c, d, a, b, ...)."""
    net = init_gpt(config, seed).eval()
    linear = LinearGPT(net).eval()
    int8, _ = torch_dynamic_int8(net)
    ids = torch.randint(config.vocab_size, (1, max(contexts)), generator=torch.Generator().manual_seed(seed))
    params, f32_bytes, int8_bytes = count_params(config), weight_bytes(net), weight_bytes(int8)
    lm_head = net.w("lm_head")
    rows = []
    for c in contexts:
        caches = [net.new_cache(), linear.new_cache(), int8.new_cache()]
        for model, cache in zip((net, linear, int8), caches):
            if c > 1:
                model(ids[:, : c - 1], cache, 0)  # the context's first c - 1 tokens, cached once
        last = ids[:, c - 1: c]
        steps = [lambda: net(ids[:, :c], hidden=True)[:, -1] @ lm_head.T,  # recomputed: every position
                 lambda: net(last, caches[0], c - 1),  # the house GPT, cached
                 lambda: linear(last, caches[1], c - 1),  # float32 nn.Linear, cached
                 lambda: int8(last, caches[2], c - 1)]  # int8 dynamic, cached
        looped = [_per_call(step) for step in steps]
        timings = alternate_seconds([loop for loop, _ in looped], repeats)
        recomputed, cached, f32, i8 = (_rate(t, n) for t, (_, n) in zip(timings, looped))
        spread = max(t.spread for t in timings)
        rows.append([params, f"{config.n_layer}x{config.n_embd}", c, round(recomputed, 1), round(cached, 1),
                     round(cached / recomputed, 3), round(f32, 1), round(i8, 1), round(i8 / f32, 3),
                     round(f32_bytes / 1e6, 3), round(int8_bytes / 1e6, 3), None, round(spread, 3)])
        if progress:
            progress(f"{params / 1e6:.1f} M parameters, context {c}")
    net.trace = []  # the prefill's attention weights, kept by GPT.forward for the tour's trace
    return rows


def measure(max_params: int = MAX_PARAMS, contexts=None, repeats: int = 5, quick: bool = False, seed: int = 0,
            progress=None) -> Measured:
    """The sweep: per size (up to max_params) and context, decoding tokens/s with and without the KV cache,
    float32 and int8, the bandwidth bound, the repeats' spread. quick: two toy sizes (seconds)."""
    sizes, vocab = (QUICK_SIZES, QUICK_VOCAB) if quick else (SIZES, VOCAB)
    contexts = sorted(set(contexts or (QUICK_CONTEXTS if quick else CONTEXTS)))
    if contexts[0] < 1 or contexts[-1] > MAX_CONTEXT:
        raise OmakaseError(f"contexts must be 1 to {MAX_CONTEXT} tokens, got {contexts}")
    chosen = configs(max_params, sizes, vocab, max(contexts))
    total, done = len(chosen) * len(contexts) + 1, 0
    copy_mb = 32 if quick else 256  # the full sweep copies more than any cache holds
    bandwidth = memory_bandwidth(megabytes=copy_mb)
    if progress:
        progress(1, total, f"memory bandwidth {bandwidth / 1e9:.1f} GB/s")
    rows = []
    for config in chosen:
        def tick(what):
            nonlocal done
            done += 1
            if progress:
                progress(done + 1, total, what)
        rows += measure_size(config, contexts, repeats, seed, tick)
        gc.collect()  # the largest size holds about 0.9 GB (float32, its nn.Linear copy, int8) until here
    for row in rows:
        row[COLUMNS.index("bound tokens/s")] = round(bandwidth / (row[COLUMNS.index("float32 MB")] * 1e6))
    m = Measured("sweep", "Where the KV cache and INT8 start to pay: decoding one token at batch 1, random weights",
                 list(COLUMNS), rows,
                 plot=Plot("parameters", ["KV x", "INT8 x"], "parameters (every matrix, embeddings included)",
                           "speed-up (x): above 1 it pays", logx=True, logy=True, series="context", hline=1.0,
                           logbase=10),
                 setup={"sizes": [f"{c.n_layer}x{c.n_embd}, {c.n_head} heads" for c in chosen], "vocab": vocab,
                        "block": max(contexts), "contexts": contexts, "repeats": repeats, "seed": seed,
                        "weights": "random, engines.torch.init_gpt (a forward pass costs the same whatever they are)",
                        "recomputed": "GPT.forward over the whole context, lm_head on the last position only",
                        "cached": "GPT.forward of one position with the KV cache holding context - 1",
                        "float32 / int8": "quantize.LinearGPT with its cache, float32 and "
                                          "torch.ao.quantization.quantize_dynamic(qint8)",
                        "bound": "memory bandwidth / float32 weight bytes: tokens/s if reading the weights once "
                                 "per token were the only cost",
                        "memory_bandwidth_GB_s": round(bandwidth / 1e9, 1), "bandwidth_copy_MB": copy_mb,
                        "spread": "(slowest - fastest) / median of the repeats, the largest of the row's four",
                        **machine()})
    m.notes = findings(m)
    m.caption = " ".join(m.notes[:2])
    return m


def _millions(n: float) -> str:
    return f"{n:,.0f}" if n < 1e5 else f"{n / 1e6:.2f} M" if n < 1e6 else f"{n / 1e6:.1f} M"


def _pays(ratio: float, spread: float) -> bool:
    """A speed-up told apart from none: further above 1 than the repeats disagree."""
    return ratio > 1 + spread


def findings(m: Measured) -> list[str]:
    """Sentences computed from the rows: where INT8 starts to pay, where the KV cache does, and why."""
    col = m.columns.index
    sizes = sorted({r[col("parameters")] for r in m.rows})
    of = {s: [r for r in m.rows if r[col("parameters")] == s] for s in sizes}
    return [_int8_finding(sizes, of, col), _kv_finding(sizes, of, col), _bound_finding(sizes, of, col)]


def _int8_finding(sizes, of, col) -> str:
    pays = [all(_pays(r[col("INT8 x")], r[col("spread")]) for r in of[s]) for s in sizes]
    ratios = lambda s: [r[col("INT8 x")] for r in of[s]]  # noqa: E731
    if not any(pays):
        best = max((r for s in sizes for r in of[s]), key=lambda r: r[col("INT8 x")])
        return (f"INT8 never paid here: at best {best[col('INT8 x')]:.2f}x the float32 tokens/s "
                f"({_millions(best[col('parameters')])} parameters, context {best[col('context')]}), "
                f"{'not clear of' if best[col('INT8 x')] > 1 else 'below'} the float32 speed at every size up to "
                f"{_millions(sizes[-1])}.")
    first = pays.index(True)
    if all(pays[first:]):
        if first == 0:
            return (f"INT8 paid at every size, from {_millions(sizes[0])} parameters on: {min(ratios(sizes[0])):.2f}x "
                    f"to {max(ratios(sizes[-1])):.2f}x the float32 tokens/s (at {_millions(sizes[-1])}).")
        below = sizes[first - 1]
        return (f"INT8 pays from {_millions(sizes[first])} parameters on: {min(ratios(sizes[first])):.2f}x to "
                f"{max(ratios(sizes[-1])):.2f}x the float32 tokens/s, against {max(ratios(below)):.2f}x at best "
                f"at {_millions(below)}.")
    paid = ", ".join(_millions(s) for s, p in zip(sizes, pays) if p)
    return (f"INT8 paid at {paid} parameters but not at every larger size: no size from which it always pays "
            f"here (at {_millions(sizes[-1])}: {min(ratios(sizes[-1])):.2f}x to {max(ratios(sizes[-1])):.2f}x).")


def _kv_finding(sizes, of, col) -> str:
    starts = []
    for s in sizes:
        paying = [r[col("context")] for r in of[s] if _pays(r[col("KV x")], r[col("spread")])]
        starts.append(min(paying) if paying else None)
    largest = of[sizes[-1]]
    longest = max(largest, key=lambda r: r[col("context")])
    tail = (f"at {_millions(sizes[-1])} parameters and context {longest[col('context')]:,} a cached step ran "
            f"{longest[col('KV x')]:.1f}x as fast as recomputing")
    contexts = sorted({r[col("context")] for s in sizes for r in of[s]})
    if not any(starts):
        best = max((r for s in sizes for r in of[s]), key=lambda r: r[col("KV x")])
        return (f"The KV cache did not pay at any size or context measured: at best {best[col('KV x')]:.2f}x "
                f"({_millions(best[col('parameters')])} parameters, context {best[col('context')]:,}), not clear "
                f"of the repeats' spread; recomputing so few positions costs no more than a cached step.")
    if all(start == contexts[0] for start in starts):
        return f"The KV cache paid at every size from the shortest context measured ({contexts[0]:,}) on; {tail}."
    where = "; ".join(f"{_millions(s)}: " + (f"from context {start:,}" if start else "at no context measured")
                      for s, start in zip(sizes, starts))
    return f"The KV cache pays from a context that depends on the size ({where}); {tail}."


def _bound_finding(sizes, of, col) -> str:
    def share(s):
        r = min(of[s], key=lambda r: r[col("context")])  # the shortest context: the least attention work
        return r[col("cached tokens/s")] / r[col("bound tokens/s")], r[col("context")]

    (small, c0), (large, _) = share(sizes[0]), share(sizes[-1])
    limit = ("reading the weights is what limits it there, the regime where int8's quarter of the bytes can pay"
             if large >= 0.5 else "per-call overhead, not memory, still sets the pace there")
    return (f"A cached step reads every weight once: at context {c0} it reached {small:.0%} of the memory-bandwidth "
            f"bound at {_millions(sizes[0])} parameters and {large:.0%} at {_millions(sizes[-1])}: {limit}.")
