"""The model's dials: the config of a GPT and the layout of its parameters.

Everything an engine needs to know about *what* the model is lives here: the
names and shapes of the parameter matrices, the order in which they are drawn
at initialization (it decides the random stream, so it must match the
reference), and how many parameters each block holds. Engines only decide
*how* the numbers are computed.

Ming's wall of dials: every parameter is one dial; rows are output features.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from .errors import OmakaseError

INIT_STD = 0.08  # the reference draws every dial from N(0, 0.08)


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    n_layer: int = 1
    n_embd: int = 16
    n_head: int = 4
    block_size: int = 16

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_layer", "n_embd", "n_head", "block_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise OmakaseError(f"{name.replace('_', '-')} must be a whole number >= 1, got {value!r}")
        if self.n_embd % self.n_head:
            raise OmakaseError(
                f"n-embd ({self.n_embd}) must be divisible by n-head ({self.n_head}): "
                f"each head gets n_embd / n_head dimensions; try n-head "
                f"{max(d for d in range(1, self.n_head + 1) if self.n_embd % d == 0)}"
            )

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)


def param_shapes(config: GPTConfig) -> list[tuple[str, tuple[int, int]]]:
    """Names and (rows, cols) of every matrix, in the reference's init order."""
    d, v = config.n_embd, config.vocab_size
    shapes = [("wte", (v, d)), ("wpe", (config.block_size, d)), ("lm_head", (v, d))]
    for i in range(config.n_layer):
        shapes += [
            (f"layer{i}.attn_wq", (d, d)),
            (f"layer{i}.attn_wk", (d, d)),
            (f"layer{i}.attn_wv", (d, d)),
            (f"layer{i}.attn_wo", (d, d)),
            (f"layer{i}.mlp_fc1", (4 * d, d)),
            (f"layer{i}.mlp_fc2", (d, 4 * d)),
        ]
    return shapes


def init_params(config: GPTConfig, rng: random.Random, std: float = INIT_STD) -> dict[str, list[list[float]]]:
    """Draw every dial with rng.gauss(0, std), matrix by matrix, row by row (the reference's order)."""
    return {
        name: [[rng.gauss(0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config)
    }


def count_params(config: GPTConfig) -> int:
    return sum(rows * cols for _, (rows, cols) in param_shapes(config))


def block_of(name: str) -> str:
    """Which part of the model a matrix belongs to: wte, wpe, lm_head, attention or MLP."""
    if ".attn_" in name:
        return "attention"
    if ".mlp_" in name:
        return "MLP"
    return name


def params_per_block(config: GPTConfig) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, (rows, cols) in param_shapes(config):
        counts[block_of(name)] = counts.get(block_of(name), 0) + rows * cols
    return counts


def dial_name(config: GPTConfig, index: int) -> str:
    """The flat dial number `index` (0-based, reference order) as 'matrix[row][col]'."""
    for name, (rows, cols) in param_shapes(config):
        if index < rows * cols:
            return f"{name}[{index // cols}][{index % cols}]"
        index -= rows * cols
    raise IndexError("dial index out of range")


# Named sets of dials and training plans, in one place for the CLI, the tour, the web page and the
# benchmarks. "reference" is Karpathy's microgpt; "bigger" is a makemore-sized transformer
# (4 layers, 64 dims, ~200K parameters) trained with mini-batches.
HABITS = dict(schedule="linear", min_lr=0.0, beta1=0.85, beta2=0.99, weight_decay=0.0, clip=0.0, dropout=0.0,
              init_std=INIT_STD)
PRESETS = {
    "reference": dict(n_layer=1, n_embd=16, n_head=4, block_size=16, steps=1000, lr=0.01, batch_size=1, warmup=0,
                      **HABITS),
    "bigger": dict(n_layer=4, n_embd=64, n_head=4, block_size=16, steps=3000, lr=0.003, batch_size=32, warmup=100,
                   **HABITS),
    # nanoGPT's Shakespeare-on-a-laptop settings (its README): a character model of tinyshakespeare;
    # the dials start at N(0, 0.02) as nanoGPT's do (the reference's 0.08 is for 16-wide Ming)
    "shakespeare-char": dict(n_layer=4, n_embd=128, n_head=4, block_size=64, steps=2000, lr=1e-3, batch_size=12,
                             warmup=100, schedule="cosine", min_lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.1,
                             clip=1.0, dropout=0.0, init_std=0.02, data="shakespeare", engine="torch",
                             dtype="float32"),
    # nanoGPT's GPU settings for the same data; on a CPU only its shape is tested
    "shakespeare-char-gpu": dict(n_layer=6, n_embd=384, n_head=6, block_size=256, steps=5000, lr=1e-3, batch_size=64,
                                 warmup=100, schedule="cosine", min_lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.1,
                                 clip=1.0, dropout=0.2, init_std=0.02, data="shakespeare", engine="torch",
                                 dtype="bfloat16"),
}
MODEL_DIALS = ("n_layer", "n_embd", "n_head", "block_size")
MEMORY_LIMIT = 16 * 2**30  # bytes: a plan that would need more is refused before anything is allocated


def settings_for(preset: str, **given) -> tuple[dict, list[str]]:
    """A preset's settings with the ones given (not None) in their place, and notes on what was adapted.

    A preset's warmup belongs to its own number of steps: for a shorter plan it is scaled down in
    proportion (and said), so `--preset bigger --steps 50` warms up for 2 steps, not 100.
    """
    if preset not in PRESETS:
        raise OmakaseError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    base = PRESETS[preset]
    chosen = {**base, **{k: v for k, v in given.items() if v is not None}}
    notes = []
    if given.get("warmup") is None and chosen["steps"] != base["steps"] and base["warmup"]:
        chosen["warmup"] = min(round(base["warmup"] * chosen["steps"] / base["steps"]), chosen["steps"] - 1)
        notes.append(f"warmup scaled to {chosen['warmup']:,} steps for a {chosen['steps']:,}-step plan "
                     f"(the {preset} preset warms up {base['warmup']:,} of {base['steps']:,})")
    return chosen, notes


def memory_estimate(config: GPTConfig, batch_size: int) -> int:
    """Bytes the largest engine (numpy, float64) allocates for one training step: parameters with their
    gradients and Adam's moments, the causal mask, and every layer's saved activations."""
    n, t, c, h = count_params(config), config.block_size, config.n_embd, config.n_head
    per_layer = batch_size * (3 * h * t * t + 20 * t * c)  # attention scores, exps, weights; ~20 vectors per position
    return 8 * (4 * n + t * t + config.n_layer * per_layer + 3 * batch_size * t * config.vocab_size)


MAX_PARAMS = 50_000_000  # every dial is drawn in Python and written to the checkpoint: beyond, minutes before step 1


def check_memory(config: GPTConfig, batch_size: int) -> None:
    """Refuse, before anything is drawn, a model this kitchen cannot hold: too many dials, or a step's memory."""
    dials = (f"n-layer {config.n_layer}, n-embd {config.n_embd}, block-size {config.block_size}, "
             f"batch-size {batch_size}")
    n = count_params(config)
    if n > MAX_PARAMS:
        raise OmakaseError(f"this model would have {n:,} parameters ({dials}), more than the {MAX_PARAMS:,} this "
                           f"kitchen draws and saves; make n-embd or n-layer smaller")
    need = memory_estimate(config, batch_size)
    if need > MEMORY_LIMIT:
        raise OmakaseError(f"this model and batch would need about {need / 2**30:,.1f} GiB of memory ({dials}), "
                           f"more than the {MEMORY_LIMIT / 2**30:.0f} GiB limit; make the block, the width or the "
                           f"batch smaller")
