"""The plan of a training run, and its learning-rate schedule: one of each for every loop in the house.

A plan says how long and how hard to study: steps, the batch, the learning rate and
its schedule (warm-up, then a linear or cosine decay down to min_lr), Adam's betas,
weight decay (AdamW's fine for too much butter) and the cap on the gas valve
(gradient clipping). Ming's reference run (train.py) and every torch stage (fit.py:
pretraining, SFT, the reward model, DPO, RL, pruning's and drift's fine-tunes) read
the same fields through the same `learning_rate`.

The defaults are the reference's (Ming's names: 1,000 steps, one name per step, a
linear decay to 0, betas 0.85 / 0.99). `nanogpt_plan` gives nanoGPT's habits
instead (warm-up, cosine to a floor, betas 0.9 / 0.95, weight decay 0.1, clipping
at 1), which the assistant's stages start from.

A constant learning rate is a plan whose min_lr equals lr: both schedules then give lr
at every step after the warm-up, exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .adam import Adam
from .config import INIT_STD
from .errors import OmakaseError

SCHEDULES = ("linear", "cosine")


@dataclass(frozen=True)
class Plan:
    """How a model studies: the reference's plan by default; a real kitchen's habits when asked."""

    steps: int = 1000
    lr: float = 0.01
    batch_size: int = 1
    warmup: int = 0
    seed: int = 42
    schedule: str = "linear"  # after warmup: "linear" (the reference's) or "cosine" decay, down to min_lr
    min_lr: float = 0.0
    beta1: float = 0.85  # Adam's memory (the reference's betas)
    beta2: float = 0.99
    weight_decay: float = 0.0  # AdamW's fine for too much butter: every dial shrinks a little each step
    clip: float = 0.0  # the cap on the gas valve: the gradients' global norm at most this (0 = no cap)
    dropout: float = 0.0  # burners turned off at random while training (Ming's torch engine's)
    init_std: float = INIT_STD  # the dials' first turn for Ming's runs: N(0, init_std)
    eval_every: int = 100  # a torch stage measures its held-out loss every this many steps (and at the end)
    eval_batches: int = 8  # ... on this many batches of held-out windows (pretraining)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise OmakaseError(f"steps must be >= 1, got {self.steps}")
        if self.batch_size < 1:
            raise OmakaseError(f"batch size must be >= 1, got {self.batch_size}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise OmakaseError(f"learning rate must be a finite number > 0, got {self.lr}")
        if not 0 <= self.warmup <= self.steps:  # a warm-up as long as the run only ever rises
            raise OmakaseError(f"warmup must be between 0 and steps ({self.steps}), got {self.warmup}")
        if self.schedule not in SCHEDULES:
            raise OmakaseError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        for name, low, high in (("min_lr", 0, self.lr), ("beta1", 0, 1), ("beta2", 0, 1), ("weight_decay", 0, 1),
                                ("clip", 0, math.inf), ("dropout", 0, 1), ("init_std", 0, 1)):
            value = getattr(self, name)
            if not (math.isfinite(value) and low <= value <= high) or (name == "dropout" and value == 1):
                raise OmakaseError(f"{name.replace('_', ' ')} must be a finite number in [{low}, {high}], got {value}")
        if self.eval_every < 1 or self.eval_batches < 1:
            raise OmakaseError(f"eval every and eval batches must be >= 1, got {self.eval_every} and "
                               f"{self.eval_batches}")

    def adam(self) -> Adam:
        """The hand-written Adam of Ming's engines (adam.py) with this plan's betas and weight decay."""
        return Adam(self.beta1, self.beta2, weight_decay=self.weight_decay)


def learning_rate(plan: Plan, step: int) -> float:
    """The rate at `step` (0-based): linear warm-up (if any), then decay to min_lr: linear (the
    reference's lr * (1 - step / steps) when min_lr is 0) or cosine (nanoGPT's)."""
    if step < plan.warmup:
        return plan.lr * (step + 1) / plan.warmup
    if plan.schedule == "cosine":
        progress = (step - plan.warmup) / (plan.steps - plan.warmup)
        return plan.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (plan.lr - plan.min_lr)
    return plan.min_lr + (plan.lr - plan.min_lr) * (1 - step / plan.steps)


NANOGPT = {"batch_size": 32, "lr": 3e-3, "warmup": 50, "seed": 0, "schedule": "cosine", "min_lr": 3e-4,
           "beta1": 0.9, "beta2": 0.95, "weight_decay": 0.1, "clip": 1.0}


def nanogpt_plan(steps: int, **given) -> Plan:
    """A plan with nanoGPT's habits (NANOGPT), any field overridden by `given`: the assistant's stages' plans."""
    return Plan(steps=steps, **{**NANOGPT, **given})
