"""Adam, the sensei who turns the dials.

Three habits, each one line of the rule below:
- memory (momentum): m is a running average of the gradient, so one noisy
  dish does not swing a dial;
- a personal touch per dial (adaptive step): v is a running average of the
  squared gradient, and each dial's step is divided by its own sqrt(v);
- a lighter hand over time (decay): the learning rate passed in shrinks as
  training goes on (see `plan.learning_rate`).

A fourth habit is optional: decoupled weight decay (AdamW), "a fine for too
much butter": every dial is pulled a little towards 0 each step, in
proportion to the learning rate, apart from the gradient's advice.

The rule is written once for a single number; it works unchanged on NumPy
arrays, so every engine applies the very same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Adam:
    beta1: float = 0.85
    beta2: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0

    def rule(self, p, g, m, v, lr: float, t: int):
        """One update of parameter p with gradient g; t counts updates from 1. Returns (p, m, v)."""
        if self.weight_decay:
            p = p * (1 - lr * self.weight_decay)  # AdamW: the decay is not part of the gradient
        m = self.beta1 * m + (1 - self.beta1) * g
        v = self.beta2 * v + (1 - self.beta2) * g**2
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return p - lr * m_hat / (v_hat**0.5 + self.eps), m, v
