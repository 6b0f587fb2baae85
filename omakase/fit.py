"""One training loop for every torch stage: hand it a loss, it does the rest.

Pretraining and SFT (assistant/stages/pretrain.py, sft.py), the reward model, DPO and RL
(reward_model.py, dpo.py, rl.py), pruning's fine-tune (serving/prune.py) and drift's
(serving/drift.py) differ only in what a batch is and what the loss of a batch is. `fit`
holds the rest, once: the plan's learning-rate schedule (plan.learning_rate), the
optimizer, clipping, the held-out measurement, the history, and torchrun's many stoves.

    fit(model, loss, next_batch, plan) -> History

- next_batch(step) gives the step's whole (global) batch: rows (a tensor or a list), or a
  tuple of tensors with one row per example each. Every process draws the same global batch
  (same seed, same generator) and keeps its share: rows rank, rank + world, ...
- loss(model, share) gives a `Loss`: the share's mean loss (a tensor), what that mean is over
  (its tokens, pairs or answers: its weight), numbers to record as (mean, weight), and whether
  there is anything to learn at all (RL's tied groups: then no update, not even momentum's).

On several processes (torchrun, distributed.py) each process backpropagates its mean loss
scaled by its share of the global weight and the gradients are summed across processes, so
every process holds the gradient of the whole batch's weighted mean, takes the same step and
keeps the same weights: the token-weighted sum Ming's torch engine makes (engines/torch.py).
On one process the loss is backpropagated as it is: the single-process numbers are exact.

The optimizer, one per engine: torch's AdamW with the plan's betas and weight decay for the
assistant's GPT (`adamw`; weight decay 0 makes it Adam); Ming's hand-written Adam (adam.py)
for a Ming checkpoint fine-tuned on the torch engine (engines/torch.ReferenceAdam, drift).
Ming's reference run (train.Run.train_step) keeps its own loop: it trains every engine
(scalar, numpy, torch) through the Engine protocol with that hand-written Adam, and its
1,000 losses are the oracle every engine is proven against; it shares the Plan and
learning_rate of plan.py with this loop, not the loop itself.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from .distributed import rank_and_world
from .errors import OmakaseError
from .plan import Plan, learning_rate


@dataclass
class Loss:
    """What a loss function hands `fit` for its share of a batch."""

    value: object  # a 0-d tensor: the share's mean loss
    weight: float  # what the mean is over (tokens, pairs, answers): the share's say in the whole batch's mean
    metrics: dict = field(default_factory=dict)  # name -> (mean over the share, its weight), recorded every step
    learn: bool = True  # False: nothing to learn from this share (no process learning: no update at all)


@dataclass
class History:
    losses: list[float] = field(default_factory=list)  # every step's loss (the whole batch's weighted mean)
    metrics: dict[str, list] = field(default_factory=dict)  # every step's Loss.metrics, over the whole batch
    val: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out loss)
    tokens: float = 0  # the losses' weights summed: the tokens trained on, for a next-token loss
    seconds: float = 0.0  # training time (held-out measurements not counted)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {"losses": self.losses, "val": self.val, "tokens": self.tokens, "seconds": self.seconds}


def adamw(params, plan: Plan):
    """The torch stages' optimizer: AdamW with the plan's learning rate, betas and weight decay."""
    import torch

    return torch.optim.AdamW(params, lr=plan.lr, betas=(plan.beta1, plan.beta2), weight_decay=plan.weight_decay)


def fit(model, loss, next_batch, plan: Plan, *, params=None, optimizer=None, evaluate=None, after_update=None,
        progress=None) -> History:
    """Train `model` in place for plan.steps steps; returns the History.

    loss(model, share) -> Loss; next_batch(step) -> the global batch (see the module's docstring).
    params: what is trained (default: the model's parameters that require a gradient);
    optimizer: default adamw(params, plan), its learning rate set from the plan at every step;
    evaluate(model) -> held-out loss, every plan.eval_every steps and after the last;
    after_update(model), after every update (pruning puts its zeros back);
    progress(step, history) after every step."""
    import torch

    rank, world = rank_and_world()
    params = [p for p in (model.parameters() if params is None else params) if p.requires_grad]
    optimizer = optimizer if optimizer is not None else adamw(params, plan)
    history = History()
    model.train()
    for step in range(plan.steps):
        began = time.perf_counter()
        lr = learning_rate(plan, step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        out = loss(model, share(next_batch(step), rank, world))
        value, weight, metrics, learn = _whole_batch(out, world)
        if learn:
            optimizer.zero_grad(set_to_none=True)
            _backward(out, weight, params, world)
            if plan.clip:
                torch.nn.utils.clip_grad_norm_(params, plan.clip)
            optimizer.step()
            if after_update is not None:
                after_update(model)
        history.seconds += time.perf_counter() - began
        history.losses.append(value)
        history.tokens += weight
        for name, mean in metrics.items():
            history.metrics.setdefault(name, []).append(mean)
        if evaluate is not None and ((step + 1) % plan.eval_every == 0 or step + 1 == plan.steps):
            history.val.append((step + 1, evaluate(model)))
        if progress is not None:
            progress(step + 1, history)
    model.eval()
    return history


def share(batch, rank: int, world: int):
    """This process's rows of the global batch: rows rank, rank + world, ... (of each part of a tuple)."""
    if world == 1:
        return batch
    rows = len(batch[0]) if isinstance(batch, tuple) else len(batch)
    if rows < world:
        raise OmakaseError(f"a batch of {rows} cannot be shared by {world} processes; use a batch size of at "
                           f"least {world}, or fewer processes")
    return tuple(part[rank::world] for part in batch) if isinstance(batch, tuple) else batch[rank::world]


def _whole_batch(out: Loss, world: int) -> tuple[float, float, dict, bool]:
    """The whole batch's loss, weight, metrics and learn flag: the share's own on one process, else
    weighted means over every process's share (an all-reduce of sums)."""
    if world == 1:
        return out.value.item(), out.weight, {k: m for k, (m, _) in out.metrics.items()}, out.learn
    import torch
    import torch.distributed as dist

    names = sorted(out.metrics)
    sums = [out.value.item() * out.weight, out.weight, float(out.learn)]
    for name in names:
        mean, w = out.metrics[name]
        sums += [0.0 if mean is None else mean * w, 0.0 if mean is None else w]
    total = torch.tensor(sums, dtype=torch.float64)
    dist.all_reduce(total)
    total = total.tolist()
    weight = int(total[1]) if total[1].is_integer() else total[1]  # tokens and pairs stay counts
    metrics = {}
    for i, name in enumerate(names):
        s, w = total[3 + 2 * i], total[4 + 2 * i]
        metrics[name] = s / w if w else None
    return (total[0] / weight if weight else math.nan), weight, metrics, total[2] > 0


def _backward(out: Loss, weight: float, params: list, world: int) -> None:
    """Gradients of the whole batch's weighted mean loss in every process's params."""
    if world == 1:
        out.value.backward()
        return
    import torch
    import torch.distributed as dist

    if out.weight:
        (out.value * (out.weight / weight)).backward()
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)
