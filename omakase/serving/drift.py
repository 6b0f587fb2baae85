"""Complaints: drift, a night closed for fine-tuning, and reopening with a new book.

The diners change: new documents arrive that the model never studied. Without
a file of them (`new_docs`), the drift is the same records read backwards
("emma" becomes "amme"): the same ingredients and lengths in an order Ming has
never seen, so the whole change in loss comes from the order he learned. For a
stream model the held-out text is reversed the same way.

The kitchen closes for a night: a short fine-tune on the new documents' training
part (Adam, the torch engine). Measured before and after, at every evaluation
point: the held-out loss on the new documents (what the complaints were about)
and on the old ones (what was forgotten). The fine-tuned dials are a new
checkpoint: the restaurant reopens with it.
"""

from __future__ import annotations

import random
from pathlib import Path

from .. import data as data_io
from ..adam import Adam
from ..checkpoint import Checkpoint
from ..engines.torch import TorchEngine
from ..errors import OmakaseError
from .frozen import Served, held_out_loss, sample_of
from .report import Measured, Plot
from .timing import machine


def reversed_docs(token_lists: list[list[int]]) -> list[list[int]]:
    """Every document read backwards (the bells stay at both ends, as they are the same token)."""
    return [list(reversed(tokens)) for tokens in token_lists]


def new_documents(served: Served, path: str | Path | None) -> tuple[list[list[int]], str]:
    """The drifted documents as token lists, and what they are."""
    if path is None:
        return reversed_docs(served.train + served.held_out), "the records read backwards"
    docs = data_io.read_docs(path)
    encode = served.tokenizer.encode if not served.is_stream else served.tokenizer.ids
    lists = [encode(d, f"a document of {path} (its characters must be in the model's vocabulary)") for d in docs]
    if len(lists) < 20:
        raise OmakaseError(f"{path} has {len(lists)} documents; drift needs at least 20 (a tenth is held out)")
    return lists, str(path)


def measure(served: Served, new_docs: str | Path | None = None, steps: int = 200, lr: float = 1e-3,
            batch_size: int = 32, every: int = 50, docs: int = 1000, seed: int = 0, progress=None) -> tuple[Measured, Checkpoint]:
    """Losses on old and new held-out documents before, during and after fine-tuning on the new ones;
    returns the measurements and the fine-tuned checkpoint (the reopened kitchen)."""
    lists, what = new_documents(served, new_docs)
    rng = random.Random(seed)
    rng.shuffle(lists)
    n_train = data_io.split(len(lists))
    new_train, new_val = lists[:n_train], lists[n_train:]
    old_val = sample_of(served.held_out, docs, seed)
    new_val = sample_of(new_val, docs, seed)
    ckpt = served.checkpoint
    engine = TorchEngine(ckpt.config, ckpt.params, None, dtype="float32")
    block = ckpt.config.block_size
    adam = Adam()

    def losses(step: int) -> list:
        return [step, round(held_out_loss(engine.model, old_val, block), 4),
                round(held_out_loss(engine.model, new_val, block), 4)]

    rows = [losses(0)]
    for step in range(1, steps + 1):
        batch = [new_train[(step * batch_size + i) % len(new_train)] for i in range(batch_size)]
        engine.loss_and_grads(batch)
        engine.update(adam, lr, step)
        if step % every == 0 or step == steps:
            rows.append(losses(step))
        if progress:
            progress(step, steps, "fine-tuning on the new documents")
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

