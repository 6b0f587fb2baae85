"""Pretraining: the base model reads the kitchen's internet and learns to continue any page.

The cleaned documents, each opened by <|doc|>, are laid end to end into one
stream of BPE tokens. A step takes a batch of random windows of block_size + 1
tokens from it: the model predicts every next token of each window (the mean
cross-entropy, as for Ming's names). What comes out is a document simulator:
given the start of a menu page, it continues a menu page; asked a question, it
continues some document, because that is all it has ever seen.

`train` hands the next-token loss to the one training loop (fit.py); SFT (sft.py)
feeds it conversations whose untrained tokens carry the target -1 (ignored by the loss).
"""

from __future__ import annotations

from ...fit import History, Loss, fit
from ...model.held_out import held_out_loss
from ...plan import Plan, learning_rate
from ..skills.chat_format import document

IGNORE = -1  # a target the loss skips (F.cross_entropy's ignore_index)


def stream(texts: list[str], bpe) -> list[int]:
    """Every document's tokens, <|doc|> first, end to end."""
    ids: list[int] = []
    for text in texts:
        ids += document(text, bpe)
    return ids


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


def next_token_loss(model, batch) -> Loss:
    """The mean cross-entropy of a batch (inputs, targets), over the targets that count (not IGNORE)."""
    inputs, targets = batch
    return Loss(loss_of(model, inputs, targets), int((targets != IGNORE).sum()))  # targets on the CPU: no sync


def train(model, next_batch, plan: Plan, val_batches=(), progress=None) -> History:
    """fit with the next-token loss: `next_batch(step)` gives (inputs, targets); AdamW, warm-up and
    the plan's decay, clipping (plan.py's nanogpt_plan).

    progress(step, history, lr) is called after every step; held-out loss every eval_every steps and at the end.
    """
    evaluate = (lambda m: held_out_loss(m, list(val_batches))) if val_batches else None
    report = (lambda step, history: progress(step, history, learning_rate(plan, step - 1))) if progress else None
    return fit(model, next_token_loss, next_batch, plan, evaluate=evaluate, progress=report)


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
