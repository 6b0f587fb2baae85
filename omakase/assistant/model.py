"""The assistant's models: the one GPT of omakase, with a BPE vocabulary, kept one folder per stage.

Every stage (base, sft, ...) is a folder holding `model.json` (+ `model.safetensors`):
an omakase checkpoint whose tokenizer is the BPE and whose run records the stage
and what trained it. The network is engines/torch.GPT, the same module the
Michelin kitchen trains on names; only the vocabulary and the sizes differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import checkpoint
from ..config import GPTConfig, param_shapes
from ..errors import OmakaseError

INIT_STD = 0.02  # GPT-2's; the reference's 0.08 suits 16-wide Ming, not a few hundred wide
FILE = "model.json"


@dataclass
class Loaded:
    model: object  # engines.torch.GPT, in eval mode
    bpe: object  # omakase.bpe.BPE
    run: dict  # {"stage", ...}: what made it
    path: Path


def new_model(config: GPTConfig, seed: int):
    """A GPT with every parameter drawn from N(0, 0.02), reproducibly from the seed."""
    import torch

    from ..engines.torch import GPT

    model = GPT(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, shape in param_shapes(config):  # the config's order: the same seed, the same model
            model.w(name).copy_(torch.randn(shape, generator=generator) * INIT_STD)
    return model


def save(folder: str | Path, model, bpe, run: dict) -> Path:
    """Write the stage folder's checkpoint (tensors first, JSON last: never half a model)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params = {name: model.w(name).detach().double().cpu().tolist() for name in model.names}
    ckpt = checkpoint.Checkpoint(model.config, "", params, None, run, bpe=bpe.to_dict())
    checkpoint.save(ckpt, folder / FILE)
    return folder


def load(folder: str | Path, stage: str | tuple[str, ...] | None = None) -> Loaded:
    """The model of a stage folder; `stage` names the stages the caller accepts (one clear line otherwise)."""
    import torch

    from ..bpe import BPE
    from ..engines.torch import GPT

    folder = Path(folder)
    path = folder / FILE
    if not path.is_file():
        raise OmakaseError(f"{folder} holds no assistant model ({FILE} is missing); "
                           f"make one with omakase assistant build (or pretrain)")
    ckpt = checkpoint.load(path, allow_bpe=True)
    if ckpt.bpe is None:
        raise OmakaseError(f"{path} is a character-level model (Ming's); the assistant needs a BPE model "
                           f"from omakase assistant build")
    run = ckpt.run or {}
    accepted = (stage,) if isinstance(stage, str) else stage
    if accepted and run.get("stage") not in accepted:
        raise OmakaseError(f"{folder} holds the {run.get('stage')!r} model; this step needs "
                           f"{' or '.join(repr(s) for s in accepted)}")
    model = GPT(ckpt.config)
    with torch.no_grad():
        for name in model.names:
            model.w(name).copy_(torch.tensor(ckpt.params[name], dtype=torch.float32))
    return Loaded(model.eval(), BPE.from_dict(ckpt.bpe), run, folder)
