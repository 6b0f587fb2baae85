"""Removing rarely used pans: magnitude pruning, unstructured and structured.

Unstructured: in each matrix of the layers (attention wq, wk, wv, wo and MLP
fc1, fc2) the given fraction of weights with the smallest |w| is set to zero,
per matrix, as torch.nn.utils.prune.l1_unstructured does per tensor (so each
matrix ends with the same sparsity). The embeddings wte/wpe are lookups, not
products, and lm_head (vocab x n_embd, every logit's last step) stays whole:
pruning the linear layers of the blocks is the usual choice. The shapes stay
the same, so dense CPU kernels do exactly the same work: no speed-up expected.

Structured: whole MLP hidden units go: a unit is row j of fc1 and column j of
fc2; both are cut out, so the matrices shrink and the forward does less work.
GPT.forward never reads the hidden width from the config (it only flows from
fc1 to fc2), so the shrunken model runs as it is. A unit's size is
|fc1 row| * |fc2 column|: scaling the row by a and the column by 1/a gives the
same function (ReLU is positively homogeneous), and only the product stays put.

After pruning, a short fine-tune (Adam, a few steps on training documents through the
one training loop, fit.py; the pruned weights put back to zero after every update)
recovers some of the loss.
"""

from __future__ import annotations

import copy
import random

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune as torch_prune

from ..engines.torch import GPT, padded_batch
from ..errors import OmakaseError
from ..fit import Loss, fit
from ..plan import Plan
from ..model import Model, held_out_loss
from . import frozen
from .measured import Measured, Plot
from ..timing import alternate_seconds, machine

LOSS_TOLERANCE = 0.05  # a held-out loss rise smaller than this counts as "almost free"
SPEED_NOISE = 0.10  # speed ratios within ±10% of 1 are reported as no change


def prunable(model: GPT) -> list[str]:
    """The names of the matrices pruning touches: every layer's attention and MLP matrices."""
    return [name for name in model.names if ".attn_" in name or ".mlp_" in name]


def magnitude_mask(w: torch.Tensor, sparsity: float) -> torch.Tensor:
    """True where a weight is kept: the round(sparsity * numel) smallest |w| are dropped (ties by position)."""
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity must be between 0 and 1, got {sparsity}")
    k = round(sparsity * w.numel())  # Python's round, as torch's prune counts
    mask = torch.ones(w.numel(), dtype=torch.bool)
    mask[torch.argsort(w.detach().abs().flatten(), stable=True)[:k]] = False
    return mask.view(w.shape)


def torch_mask(w: torch.Tensor, sparsity: float) -> torch.Tensor:
    """The anchor: torch.nn.utils.prune.l1_unstructured's mask for `w`.

    prune works through a forward pre-hook on the module owning the parameter; our matrices live in a
    ParameterDict whose forward is never called, so each one is put in a small holder module."""
    holder = nn.Module()
    holder.weight = nn.Parameter(w.detach().clone())
    torch_prune.l1_unstructured(holder, "weight", amount=sparsity)
    return holder.weight_mask.bool()


def prune_unstructured(model: GPT, sparsity: float) -> tuple[GPT, dict[str, torch.Tensor]]:
    """A copy of `model` with each prunable matrix magnitude-pruned to `sparsity`, and the masks used."""
    pruned = copy.deepcopy(model)
    masks = {name: magnitude_mask(pruned.w(name), sparsity) for name in prunable(pruned)}
    with torch.no_grad():
        for name, mask in masks.items():
            pruned.w(name).mul_(mask)
    return pruned, masks


def unit_sizes(model: GPT, layer: int) -> torch.Tensor:
    """Per MLP hidden unit of `layer`: |fc1 row| * |fc2 column|."""
    fc1, fc2 = model.w(f"layer{layer}.mlp_fc1"), model.w(f"layer{layer}.mlp_fc2")
    return fc1.detach().norm(dim=1) * fc2.detach().norm(dim=0)


def drop_mlp_units(model: GPT, fraction: float) -> tuple[GPT, list[torch.Tensor]]:
    """A copy of `model` without the round(fraction * hidden) smallest MLP units of each layer
    (fc1 rows and fc2 columns cut out: smaller matrices), and the kept unit indices per layer."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    pruned = copy.deepcopy(model)
    kept = []
    for i in range(model.config.n_layer):
        sizes = unit_sizes(model, i)
        drop = round(fraction * sizes.numel())
        keep = torch.argsort(sizes, descending=True, stable=True)[: sizes.numel() - drop].sort().values
        fc1, fc2 = f"layer{i}_mlp_fc1", f"layer{i}_mlp_fc2"
        pruned.mats[fc1] = nn.Parameter(pruned.mats[fc1].detach()[keep].clone(), requires_grad=False)
        pruned.mats[fc2] = nn.Parameter(pruned.mats[fc2].detach()[:, keep].clone(), requires_grad=False)
        kept.append(keep)
    return pruned, kept


def zero_fraction(model: GPT, reference: GPT) -> float:
    """Of the reference's prunable weights, the fraction that is zero or gone in `model`."""
    total = sum(reference.w(name).numel() for name in prunable(reference))
    nonzero = sum(int((model.w(name) != 0).sum()) for name in prunable(model))
    return 1 - nonzero / total


def finetune(model: GPT, docs: list[list[int]], steps: int, masks: dict[str, torch.Tensor] | None = None,
             lr: float = 1e-3, batch: int = 32, seed: int = 0) -> GPT:
    """A copy of `model` after `steps` Adam updates (a constant learning rate) on random batches of `docs`,
    through the one loop (fit.py); masked weights are put back to zero after every update, so a pruned
    weight stays pruned."""
    if steps and not docs:
        raise OmakaseError("no training documents to fine-tune on: the checkpoint's data is not on this machine")
    tuned = copy.deepcopy(model).requires_grad_(True)
    if not steps:
        return tuned.requires_grad_(False).eval()
    # Adam's defaults (betas 0.9, 0.999; AdamW with no decay is Adam), no clipping, min_lr = lr: constant
    plan = Plan(steps=steps, lr=lr, min_lr=lr, batch_size=batch, seed=seed, beta1=0.9, beta2=0.999)
    rng = random.Random(seed)

    def next_batch(step):
        return padded_batch(rng.sample(docs, min(batch, len(docs))), model.config.block_size)

    def loss(m, share) -> Loss:
        inputs, targets = share
        logits = m(inputs)
        mean = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
        return Loss(mean, int((targets >= 0).sum()))

    @torch.no_grad()
    def keep_pruned(m) -> None:
        for name, mask in (masks or {}).items():
            m.w(name).mul_(mask)

    fit(tuned, loss, next_batch, plan, after_update=keep_pruned)
    return tuned.requires_grad_(False).eval()


def measure(served: Model, sparsities=(0.1, 0.3, 0.5, 0.7, 0.9), finetune_steps: int = 100,
            repeats: int = 5, docs: int = 1000, progress=None) -> Measured:
    """Held-out loss (before and after a short fine-tune) and forward tokens/s against sparsity,
    unstructured and structured. Sparsity 0 (the dense model) starts both series."""
    model, cfg = served.network, served.config
    if model.w("wte").dtype != torch.float32:  # measured in float32 (a copy: the served model stays as it is)
        model = copy.deepcopy(model).float()
    sample = frozen.sample_of(frozen.held_out(served), docs)
    inputs, targets = padded_batch(sample, cfg.block_size)
    tokens = int((targets >= 0).sum())
    total = 1 + 2 * len(sparsities)

    def row(method, sparsity, pruned, masks, done):
        if progress:
            progress(done, total, f"{method} {sparsity:.0%}")
        with torch.inference_mode():
            dense_t, pruned_t = alternate_seconds([lambda: model(inputs), lambda: pruned(inputs)], repeats)
        dense_seconds, seconds = dense_t.median, pruned_t.median
        tuned = finetune(pruned, frozen.training_docs(served), finetune_steps, masks)
        return [method, sparsity, zero_fraction(pruned, model), held_out_loss(pruned, sample),
                held_out_loss(tuned, sample), tokens / seconds, dense_seconds / seconds,
                round(max(dense_t.spread, pruned_t.spread), 3)]

    dense = row("dense", 0.0, model, None, 0)
    rows = [["unstructured", *dense[1:]], ["structured", *dense[1:]]]  # sparsity 0 is the dense model itself
    for j, sparsity in enumerate(sparsities):
        rows.append(row("unstructured", sparsity, *prune_unstructured(model, sparsity), 1 + 2 * j))
        rows.append(row("structured", sparsity, drop_mlp_units(model, sparsity)[0], None, 2 + 2 * j))
    if progress:
        progress(total, total, "done")
    rows.sort(key=lambda r: (r[0], r[1]))
    columns = ["method", "sparsity", "weights removed", "held-out loss", "after fine-tune", "tokens/s", "speed x",
               "spread"]
    result = Measured("prune", "Pruning: held-out loss and speed against sparsity", columns, rows, setup={
        "model": served.path.name, "config": cfg.to_dict(), "repeats": repeats, "held_out_docs": len(sample),
        "forward_batch": list(inputs.shape), "forward_tokens": tokens, "finetune_steps": finetune_steps,
        "finetune": "Adam lr 1e-3, 32 training documents per step, masks re-applied after every update",
        "unstructured": "smallest |w| per matrix, attention and MLP matrices (not wte, wpe, lm_head)",
        "structured": "sparsity = fraction of MLP hidden units removed per layer (smallest |fc1 row|*|fc2 col|)",
        "speed x": "the dense forward's median seconds / this model's, timed in turns; at sparsity 0 the "
                          "dense model against itself (the noise)", "dtype": "float32",
        "spread": "(slowest - fastest) / median of the repeats, the larger of the two timings", **machine()})
    result.notes = _notes(result)
    result.plot = Plot(x="sparsity", y=["held-out loss", "after fine-tune"], xlabel="sparsity (fraction pruned)",
                       ylabel="held-out loss", series="method")
    return result


def _notes(result: Measured) -> list[str]:
    notes = []
    col = result.columns.index
    for method in ("unstructured", "structured"):
        rows = [r for r in result.rows if r[0] == method]
        base = rows[0]
        free = 0.0
        for r in rows[1:]:
            if r[col("held-out loss")] - base[col("held-out loss")] >= LOSS_TOLERANCE:
                break
            free = r[col("sparsity")]
        notes.append(f"{method}: the held-out loss rises by less than {LOSS_TOLERANCE} up to {free:.0%} sparsity "
                     f"without fine-tuning" if free else
                     f"{method}: already at {rows[1][col('sparsity')]:.0%} the held-out loss rises by "
                     f"{rows[1][col('held-out loss')] - base[col('held-out loss')]:.3f} without fine-tuning")
        last = rows[-1]
        loss, tuned = last[col("held-out loss")], last[col("after fine-tune")]
        notes.append(f"{method} at {last[col('sparsity')]:.0%} ({last[col('weights removed')]:.0%} of the layer "
                     f"weights removed): held-out loss {loss:.3f} ({loss - base[col('held-out loss')]:+.3f} over dense), "
                     f"{tuned:.3f} after {result.setup['finetune_steps']} fine-tune steps "
                     f"({tuned - base[col('after fine-tune')]:+.3f} over the dense model fine-tuned alike, which went "
                     f"{base[col('held-out loss')]:.3f} -> {base[col('after fine-tune')]:.3f}).")
        speeds = [r[col("speed x")] for r in rows[1:]]
        slowest, fastest = min(speeds), max(speeds)
        noise = f"the dense model timed against itself: {base[col('speed x')]:.2f}x"
        if all(abs(s - 1) <= SPEED_NOISE for s in speeds):
            why = "; same shapes, so the dense kernels do the same work" if method == "unstructured" else ""
            notes.append(f"{method}: no speed-up: the pruned models' forward ran at {slowest:.2f}x-{fastest:.2f}x "
                         f"the dense tokens/s, within ±{SPEED_NOISE:.0%} ({noise}{why}).")
        else:
            notes.append(f"{method}: the pruned models' forward ran at {slowest:.2f}x-{fastest:.2f}x the dense "
                         f"tokens/s ({speeds[-1]:.2f}x at {rows[-1][col('sparsity')]:.0%}; {noise}).")
    return notes
