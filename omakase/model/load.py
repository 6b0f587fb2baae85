"""A model on disk and in memory: one `Model` (engine, tokenizer, what made it) and one `load`.

Every checkpoint here is the same GPT (config.py) with a vocabulary: Ming's
characters or the assistant's BPE. `load` reads either, from a checkpoint file
or an assistant stage folder (which holds `model.json`), and puts its weights
in an engine: scalar, numpy or torch for Ming; torch for the assistant, whose
training stages work on the torch module itself (`Model.network`). The
serving hacks, the web page, the CLI and the assistant all load through here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import checkpoint as ckpt_io
from ..checkpoint import Checkpoint
from ..engines import make_engine
from ..errors import OmakaseError

MODEL_FILE = "model.json"  # in an assistant stage folder


@dataclass
class Model:
    engine: Any  # an Engine (engines/): it computes; generate and held_out_loss ask only it
    tokenizer: Any  # tokenizer.Tokenizer (characters) or bpe.BPE
    run: dict = field(default_factory=dict)  # what made it: seed, data, stage, the run's random state...
    path: Path | None = None
    checkpoint: Checkpoint | None = None  # what it was loaded from (its params, for another engine)
    dataset: Any = None  # the data it was trained on, when attached (inference.attach_dataset)

    @property
    def config(self):
        return self.engine.config

    @property
    def network(self):
        """The torch GPT module the torch engine computes with (what the assistant's stages train)."""
        network = getattr(self.engine, "model", None)
        if network is None:
            raise OmakaseError(f"the {self.engine.name} engine has no torch module; load with engine torch")
        return network

    @property
    def seed(self) -> int:
        return self.run.get("seed", 42)

    def rng(self, seed: int | None = None) -> random.Random:
        """A fresh stream for `seed`; without one, the run's own stream as it stood after initialization
        (so cooking right after training and cooking from the checkpoint give the same names)."""
        state = self.run.get("random_state")
        if seed is not None or state is None:
            return random.Random(self.seed if seed is None else seed)
        rng = random.Random()
        rng.setstate((state[0], tuple(state[1]), state[2]))
        return rng

    @classmethod
    def around(cls, network, tokenizer, run: dict | None = None) -> "Model":
        """A Model computing with a torch GPT as it is now (a model in training samples with its current
        weights; nothing is copied)."""
        from ..engines.torch import TorchEngine

        return cls(TorchEngine.around(network), tokenizer, dict(run or {}))


def load(path: str | Path, engine: str | None = None, *, dtype: str | None = None, device: str = "cpu",
         kind: str = "any", stage: str | tuple[str, ...] | None = None) -> Model:
    """The model at `path` (a checkpoint file, or a folder holding model.json).

    engine: scalar, numpy or torch (None: numpy for characters, torch for BPE). dtype (torch only;
    None: float64 for characters, exact with the scalar oracle; float32 for BPE). kind "chars" or
    "bpe" refuses the other vocabulary in one clear line; `stage` names the assistant stages the caller
    accepts (base, sft, ...).
    """
    path = Path(path)
    folder = path if path.is_dir() or (kind == "bpe" and not path.exists()) else None
    if folder is not None:
        path = folder / MODEL_FILE
        if not path.is_file():
            raise OmakaseError(f"{folder} holds no assistant model ({MODEL_FILE} is missing); "
                               f"make one with omakase assistant build (or pretrain)")
    ckpt = ckpt_io.load(path, allow_bpe=kind != "chars")
    is_bpe = ckpt.bpe is not None
    if kind == "bpe" and not is_bpe:
        raise OmakaseError(f"{path} is a character-level model (Ming's); the assistant needs a BPE model "
                           f"from omakase assistant build")
    accepted = (stage,) if isinstance(stage, str) else stage
    if accepted and ckpt.run.get("stage") not in accepted:
        raise OmakaseError(f"{folder or path} holds the {ckpt.run.get('stage')!r} model; this step needs "
                           f"{' or '.join(repr(s) for s in accepted)}")
    name = engine or ("torch" if is_bpe else "numpy")
    if name == "torch":
        from ..engines.torch import TorchEngine

        computing = TorchEngine(ckpt.config, ckpt.params, dtype=dtype or ("float32" if is_bpe else "float64"),
                                device=device)
    else:
        if dtype is not None:
            raise OmakaseError(f"a dtype is chosen for the torch engine only; the {name} engine computes in float64")
        computing = make_engine(name, ckpt.config, ckpt.params)
    return Model(computing, ckpt.tokenizer, ckpt.run or {}, folder or path, ckpt)


def save(folder: str | Path, network, tokenizer, run: dict) -> Path:
    """Write an assistant stage folder's checkpoint: a torch GPT, its BPE and what made it (tensors first,
    JSON last: never half a model)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params = {name: network.w(name).detach().double().cpu().tolist() for name in network.names}
    ckpt = Checkpoint(network.config, "", params, None, run, bpe=tokenizer.to_dict())
    ckpt_io.save(ckpt, folder / MODEL_FILE)
    return folder
