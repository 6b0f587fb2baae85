"""A small Ming to draft for a big one (speculative decoding): trained here when none is given.

The draft must share the target's vocabulary, so it studies the same records:
the reference's dials (1 layer, 16 wide, 4 heads) and the target's block, with
mini-batches, on the numpy engine (seconds).
"""

from __future__ import annotations

from pathlib import Path

from .. import checkpoint as ckpt_io
from .. import train as training
from ..errors import OmakaseError


def train_draft(target_path: str | Path, out: str | Path, steps: int = 1000, batch_size: int = 32,
                progress=None) -> Path:
    """Train a reference-sized draft on the target's data and save it to `out`."""
    target = ckpt_io.load(target_path)
    where = training.recorded_data(target) or (target.run.get("data") or {}).get("name")
    if not where:
        raise OmakaseError("the checkpoint does not say what data it was trained on; give a draft model")
    docs, info = training.load_dataset(where, (target.run.get("data") or {}).get("layout"))
    if info["sha256"] != (target.run.get("data") or {}).get("sha256"):
        raise OmakaseError(f"the data {where} changed since the checkpoint was trained; give a draft model")
    plan = training.Plan(steps=steps, lr=0.01, batch_size=batch_size, seed=target.run.get("seed", 42))
    run = training.start(docs, info, plan, "numpy", n_layer=1, n_embd=16, n_head=4,
                         block_size=target.config.block_size)
    if run.tokenizer.chars != target.chars:
        raise OmakaseError("a draft trained on this data would not share the checkpoint's vocabulary; give one")
    for step in range(steps):
        run.train_step()
        if progress:
            progress(step + 1, steps, "training a draft")
    ckpt_io.save(run.checkpoint(), out)
    return Path(out)
