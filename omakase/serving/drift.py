"""Complaints: drift, a night closed for fine-tuning, and reopening with a new book.

The diners change: new documents arrive that the model never studied. Without
a file of them (`new_docs`), the drift is the same records read backwards
("emma" becomes "amme"): the same ingredients and lengths in an order Ming has
never seen, so the whole change in loss comes from the order he learned. For a
stream model the held-out text is reversed the same way.

The kitchen closes for a night: a short fine-tune on the new documents' training
part (the torch engine and Ming's Adam, through the one training loop, fit.py).
Measured before and after, at every evaluation point: the held-out loss on the
new documents (what the complaints were about) and on the old ones (what was
forgotten). The fine-tuned dials are a new checkpoint: the restaurant reopens with it.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch.nn.functional as F

from .. import data as data_io
from ..adam import Adam
from ..checkpoint import Checkpoint
from ..engines.torch import ReferenceAdam, TorchEngine, padded_batch
from ..errors import OmakaseError
from ..fit import Loss, fit
from ..plan import Plan
from .. import inference
from ..model import Model, held_out_loss
from .frozen import held_out, sample_of, training_docs
from .measured import Measured, Plot
from ..timing import machine


def reversed_docs(token_lists: list[list[int]]) -> list[list[int]]:
    """Every document read backwards (the bells stay at both ends, as they are the same token)."""
    return [list(reversed(tokens)) for tokens in token_lists]


def new_documents(served: Model, path: str | Path | None) -> tuple[list[list[int]], str]:
    """The drifted documents as token lists, and what they are."""
    if path is None:
        return reversed_docs(training_docs(served) + held_out(served)), "the records read backwards"
    docs = data_io.read_docs(path)
    encode = served.tokenizer.encode if not inference.is_stream(served) else served.tokenizer.ids
    lists = [encode(d, f"a document of {path} (its characters must be in the model's vocabulary)") for d in docs]
    if len(lists) < 20:
        raise OmakaseError(f"{path} has {len(lists)} documents; drift needs at least 20 (a tenth is held out)")
    return lists, str(path)


def measure(served: Model, new_docs: str | Path | None = None, steps: int = 200, lr: float = 1e-3,
            batch_size: int = 32, every: int = 50, docs: int = 1000, seed: int = 0, progress=None) -> tuple[Measured, Checkpoint]:
    """Losses on old and new held-out documents before, during and after fine-tuning on the new ones;
    returns the measurements and the fine-tuned checkpoint (the reopened kitchen)."""
    lists, what = new_documents(served, new_docs)
    rng = random.Random(seed)
    rng.shuffle(lists)
    n_train = data_io.split(len(lists))
    new_train, new_val = lists[:n_train], lists[n_train:]
    old_val = sample_of(held_out(served), docs, seed)
    new_val = sample_of(new_val, docs, seed)
    ckpt = served.checkpoint
    engine = TorchEngine(ckpt.config, ckpt.params, None, dtype="float32")
    block = ckpt.config.block_size
    # Ming's engine, Ming's hand-written Adam (betas 0.85, 0.99) at a constant rate: min_lr = lr
    plan = Plan(steps=steps, lr=lr, min_lr=lr, batch_size=batch_size, seed=seed)
    adam = ReferenceAdam(engine.tensors, Adam(), lr)

    def losses(step: int) -> list:
        return [step, round(held_out_loss(engine.model, old_val), 4),
                round(held_out_loss(engine.model, new_val), 4)]

    def next_batch(step):  # update t = step + 1 reads documents (t * batch_size + i), cycling
        return [new_train[((step + 1) * batch_size + i) % len(new_train)] for i in range(batch_size)]

    def loss(model, docs) -> Loss:
        inputs, targets = padded_batch(docs, block, engine.device)
        n = int((targets >= 0).sum())
        nll = F.cross_entropy(model(inputs).float().flatten(0, 1), targets.flatten(), ignore_index=-1, reduction="sum")
        return Loss(nll / n, n)

    def measured(step: int, history) -> None:
        if step % every == 0 or step == steps:
            rows.append(losses(step))
        if progress:
            progress(step, steps, "fine-tuning on the new documents")

    rows = [losses(0)]
    fit(engine.model, loss, next_batch, plan, params=engine.tensors, optimizer=adam, progress=measured)
    engine.m, engine.v = adam.m, adam.v  # Adam's notebooks go into the reopened checkpoint
    reopened = Checkpoint(ckpt.config, ckpt.chars, engine.params(), engine.moments(),
                          {**ckpt.run, "fine_tuned": {"from": str(served.path), "on": what, "steps": steps,
                                                      "lr": lr, "batch_size": batch_size}})
    m = Measured("drift", f"Drift: {what}, then {steps} fine-tuning steps on them",
                 ["step", "old held-out loss", "new held-out loss"], rows,
                 plot=Plot("step", ["old held-out loss", "new held-out loss"], "fine-tuning step",
                           "held-out loss (nats per token)"),
                 setup={"new_documents": what, "new_train": len(new_train), "new_held_out": len(new_val),
                        "old_held_out": len(old_val), "steps": steps, "lr": lr, "batch_size": batch_size,
                        "dtype": "float32", **machine()})
    m.notes = notes(m)
    return m, reopened


def notes(m: Measured) -> list[str]:
    (_, old0, new0), (step, old1, new1) = m.rows[0], m.rows[-1]
    return [f"Before: the new documents cost {new0:.3f} per token against {old0:.3f} for the old ones "
            f"({new0 - old0:+.3f}).",
            f"After {step} fine-tuning steps the new documents cost {new1:.3f} ({new1 - new0:+.3f}) and the old "
            f"ones {old1:.3f} ({old1 - old0:+.3f}: {'forgetting' if old1 > old0 else 'no forgetting'})."]

