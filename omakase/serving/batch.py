"""Eight cakes on one tray: batching.

One forward pass serves many requests at once: the weights are read once per
step for the whole tray, and the matrix products get wide enough for the CPU's
vector units. The cost is latency: every request waits for the whole tray.

The requests here are held-out documents' first courses (the bell and two
letters for a names model; three characters of held-out text for a stream),
all the same length, so no padding is needed; each continues greedily for a
fixed number of tokens, batched and one by one: the same tokens (checked).
"""

from __future__ import annotations

from ..errors import OmakaseError
from ..model import Model, Sampler, generate
from .frozen import held_out
from .measured import Measured, Plot
from ..timing import alternate_seconds, machine

PROMPT = 3  # tokens per request: the bell and two letters


def prompts(model: Model, n: int) -> list[list[int]]:
    """n requests of PROMPT tokens: the starts of held-out documents long enough to have them."""
    starts = [doc[:PROMPT] for doc in held_out(model) if len(doc) > PROMPT]
    if not starts:
        raise OmakaseError(f"no held-out document has more than {PROMPT} tokens to start a request with; "
                           f"batching needs longer documents")
    return [starts[i % len(starts)] for i in range(n)]


def greedy(model: Model, requests: list[list[int]], n_new: int) -> list[list[int]]:
    """n_new greedy tokens for each request, the requests decoded together (one forward pass per step)."""
    return [made.ids for made in generate(model, requests, sampler=Sampler(0.0), max_new=n_new)]


def measure(model: Model, batch_sizes=(1, 2, 4, 8, 16, 32, 64), repeats: int = 5, progress=None) -> Measured:
    n_new = model.config.block_size - PROMPT + 1  # as many as fit in the block
    requests = prompts(model, max(batch_sizes))
    one_by_one = [greedy(model, [r], n_new)[0] for r in requests]
    rows = []
    for i, b in enumerate(batch_sizes):
        same = greedy(model, requests[:b], n_new) == one_by_one[:b]
        rows.append([b, same])
        if progress:
            progress(i + 1, len(batch_sizes), f"batch {b} (the same tokens?)")
    # timed in turns across the batch sizes, so a change in the machine's load falls on all of them
    seconds = alternate_seconds([lambda b=b: greedy(model, requests[:b], n_new) for b in batch_sizes], repeats)
    rows = [[b, round(b * n_new / t.median, 1), round(t.median * 1000, 2), same, round(t.spread, 3)]
            for (b, same), t in zip(rows, seconds)]
    base = rows[0][1]
    for row in rows:
        row.insert(2, round(row[1] / base, 2))
    m = Measured("batch", f"Batching: {n_new} greedy tokens per request, requests served together",
                 ["batch", "tokens/s", "throughput x", "latency ms", "same tokens", "spread"], rows,
                 plot=Plot("batch", ["throughput x"], "requests per batch", "tokens/s relative to batch 1",
                           logx=True),
                 setup={"dtype": str(model.network.w("wte").dtype).removeprefix("torch."), "repeats": repeats,
                        "prompt_tokens": PROMPT, "new_tokens": n_new,
                        "spread": "(slowest - fastest) / median of the repeats", **machine()})
    m.notes = notes(m)
    return m


def notes(m: Measured) -> list[str]:
    batch, gain, latency = m.column("batch"), m.column("throughput x"), m.column("latency ms")
    best = max(range(len(batch)), key=gain.__getitem__)
    same = all(m.column("same tokens"))
    return [f"Serving {batch[best]} requests at once gave {gain[best]:.1f}x the tokens/s of one at a time; each "
            f"request then waited {latency[best] / latency[0]:.1f}x as long ({latency[best]:.1f} ms against "
            f"{latency[0]:.1f} ms).",
            "Every request got the same tokens batched as alone." if same else
            "Some requests got different tokens batched than alone (float rounding differs with the batch "
            "shape and changed an argmax)."]
