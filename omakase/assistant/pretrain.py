"""Pretraining: the base model reads the kitchen's internet and learns to continue any page.

The cleaned documents, each opened by <|doc|>, are laid end to end into one
stream of BPE tokens. A step takes a batch of random windows of block_size + 1
tokens from it: the model predicts every next token of each window (the mean
cross-entropy, as for Ming's names). What comes out is a document simulator:
given the start of a menu page, it continues a menu page; asked a question, it
continues some document, because that is all it has ever seen.

The loop (`train`) is shared with SFT (sft.py), which feeds it conversations
whose untrained tokens carry the target -1 (ignored by the loss).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from .chat import document

IGNORE = -1  # a target the loss skips (F.cross_entropy's ignore_index)


@dataclass
class Plan:
    steps: int
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 50
    min_lr: float = 3e-4  # the cosine schedule ends here
    weight_decay: float = 0.1
    clip: float = 1.0
    seed: int = 0
    eval_every: int = 100
    eval_batches: int = 8


@dataclass
class History:
    losses: list[float] = field(default_factory=list)  # every step's training loss (one batch: noisy)
    val: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out loss)
    tokens: int = 0  # tokens trained on (targets that count)
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {"losses": self.losses, "val": self.val, "tokens": self.tokens, "seconds": self.seconds}


def stream(texts: list[str], bpe) -> list[int]:
    """Every document's tokens, <|doc|> first, end to end."""
    ids: list[int] = []
    for text in texts:
        ids += document(text, bpe)
    return ids


def learning_rate(plan: Plan, step: int) -> float:
    """Linear warm-up, then a cosine from lr down to min_lr."""
    if step < plan.warmup:
        return plan.lr * (step + 1) / plan.warmup
    progress = (step - plan.warmup) / max(1, plan.steps - plan.warmup)
    return plan.min_lr + 0.5 * (plan.lr - plan.min_lr) * (1 + math.cos(math.pi * progress))


def windows(tokens, block_size: int, batch_size: int, generator):
    """A batch of random windows from a token stream: inputs and next-token targets, (B, T) each."""
    import torch

    if len(tokens) < block_size + 1:
        raise ValueError(f"a stream of {len(tokens)} tokens is shorter than one window of {block_size + 1}")
    starts = torch.randint(0, len(tokens) - block_size, (batch_size,), generator=generator)
    rows = torch.stack([tokens[s:s + block_size + 1] for s in starts.tolist()])
    return rows[:, :-1], rows[:, 1:]


def fixed_windows(tokens, block_size: int, n: int):
    """Evenly spaced windows covering a held-out stream: the same ones at every evaluation."""
    import torch

    last = len(tokens) - block_size - 1
    if last < 0:
        raise ValueError(f"a held-out stream of {len(tokens)} tokens is shorter than one window")
    starts = sorted({round(i * last / max(1, n - 1)) for i in range(n)})
    rows = torch.stack([tokens[s:s + block_size + 1] for s in starts])
    return rows[:, :-1], rows[:, 1:]


def loss_of(model, inputs, targets):
    import torch.nn.functional as F

    device = model.w("wte").device  # batches are made on the CPU; the model may sit on a GPU
    inputs, targets = inputs.to(device), targets.to(device)
    logits = model(inputs)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE)


def held_out_loss(model, batches) -> float:
    """Mean loss over fixed held-out batches [(inputs, targets), ...], weighted by their counted targets."""
    import torch

    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for inputs, targets in batches:
            n = int((targets != IGNORE).sum())
            if n:
                total += float(loss_of(model, inputs, targets)) * n
                count += n
    model.train(was_training)
    return total / count if count else math.nan


def adamw(params, plan: Plan):
    """The optimizer of every training here (pretraining, SFT, practice, the critics): AdamW, betas (0.9, 0.95)."""
    import torch

    return torch.optim.AdamW(params, lr=plan.lr, betas=(0.9, 0.95), weight_decay=plan.weight_decay)


def schedule(optimizer, plan: Plan, step: int) -> float:
    """Set the optimizer's learning rate for `step` (warm-up, then cosine decay); returns it."""
    lr = learning_rate(plan, step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


def train(model, next_batch, plan: Plan, val_batches=(), progress=None) -> History:
    """AdamW with warm-up and cosine decay, gradient clipping; `next_batch(step)` gives (inputs, targets).

    progress(step, history, lr) is called after every step; held-out loss every eval_every steps and at the end.
    """
    import torch

    optimizer = adamw(model.parameters(), plan)
    history = History()
    model.train()
    for step in range(plan.steps):
        began = time.perf_counter()
        lr = schedule(optimizer, plan, step)
        inputs, targets = next_batch(step)
        loss = loss_of(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), plan.clip)
        optimizer.step()
        history.seconds += time.perf_counter() - began  # training time only: evaluations are not counted
        history.losses.append(loss.item())
        history.tokens += int((targets != IGNORE).sum())  # targets stay on the CPU: no device sync
        if val_batches and (step + 1 == plan.steps or (step + 1) % plan.eval_every == 0):
            history.val.append((step + 1, held_out_loss(model, val_batches)))
        if progress:
            progress(step + 1, history, lr)
    model.eval()
    return history


def pretrain(model, bpe, train_texts: list[str], val_texts: list[str], plan: Plan, progress=None) -> History:
    """Train the base model on the documents' stream; held-out loss on the validation documents' stream."""
    import torch

    block = model.config.block_size
    train_ids = torch.tensor(stream(train_texts, bpe))
    val_ids = torch.tensor(stream(val_texts, bpe))
    generator = torch.Generator().manual_seed(plan.seed)
    val_inputs, val_targets = fixed_windows(val_ids, block, plan.eval_batches * plan.batch_size)
    val_batches = list(zip(val_inputs.split(plan.batch_size), val_targets.split(plan.batch_size)))
    return train(model, lambda step: windows(train_ids, block, plan.batch_size, generator), plan,
                 val_batches, progress)
