"""One checkpoint format: a JSON file that freezes a run so nothing is lost.

    {
      "format": "omakase-checkpoint", "version": 2,
      "config": {"vocab_size", "n_layer", "n_embd", "n_head", "block_size"},
      "tokenizer": {"kind": "chars", "chars": the vocabulary, sorted characters (the bell is id len(chars))}
                or {"kind": "bpe", "merges", "special", "pattern"}  (omakase/bpe.py, BPE.to_dict),
      "params": {matrix name: [[row of floats], ...]},   rows are output features
      "adam":   {"m": {...same shapes...}, "v": {...}}  Adam's moments (null before training)
      "run":    {"seed", "steps" (the plan), "step" (steps done), "lr", "warmup",
                 "batch_size", "engine", "data": {"name", "sha256", "n_docs"},
                 "order": the shuffled document order (indices into the file's documents),
                 "random_state": Python's random state after initialization,
                 "losses": every step's training loss,
                 "val": [{"step", "loss", "n_docs"}], the held-out losses measured}
    }

Version 1 held the characters as a top-level "chars" (every checkpoint was
character-level); it still loads, as a "chars" tokenizer. A BPE checkpoint
(the assistant's) is refused by `load` unless the caller asks for it with
allow_bpe=True: Ming's commands (sample, train --resume, tour, service, web)
speak characters, and one clear line beats a traceback deep in an engine.

Floats are written with repr, so a checkpoint round-trips bit for bit and
engines are interchangeable. Files are written atomically (temp file, fsync,
rename): an interrupted write never leaves half a checkpoint behind.

At scale (more than TENSORS_AT parameters, when the safetensors package is
installed) the numbers go into a sibling file `<name>.safetensors` (float64,
named "params/<matrix>", "adam.m/<matrix>", "adam.v/<matrix>"), and the JSON
holds {"safetensors": file name, "sha256": its digest} in place of "params"
and "adam": a 0.8M-parameter checkpoint is 20 MB instead of 54 MB of text, and
the JSON stays small enough to read. The tensors file is written first, the
JSON last, and the digest is checked on load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .config import GPTConfig, count_params, param_shapes
from .bpe import BPE
from .errors import OmakaseError
from .files import atomic_write_bytes, atomic_write_text, placeholder
from .tokenizer import Tokenizer

FORMAT, VERSION = "omakase-checkpoint", 2
READS = (1, 2)  # the versions load understands


@dataclass
class Checkpoint:
    config: GPTConfig
    chars: str
    params: dict[str, list[list[float]]]
    moments: tuple[dict, dict] | None = None
    run: dict = field(default_factory=dict)
    bpe: dict | None = None  # BPE.to_dict() when the model reads BPE tokens (then chars is "")

    @property
    def tokenizer(self) -> Tokenizer | BPE:
        return BPE.from_dict(self.bpe) if self.bpe is not None else Tokenizer(self.chars)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "config": self.config.to_dict(),
            "tokenizer": self.bpe if self.bpe is not None else {"kind": "chars", "chars": self.chars},
            "params": self.params,
            "adam": None if self.moments is None else {"m": self.moments[0], "v": self.moments[1]},
            "run": self.run,
        }


TENSORS_AT = 100_000  # parameters: above this a checkpoint keeps its numbers in safetensors


def save(ckpt: Checkpoint, path: str | Path) -> None:
    doc = ckpt.to_json()
    if count_params(ckpt.config) > TENSORS_AT and _safetensors() is not None:
        doc["params"], doc["adam"] = _save_tensors(ckpt, Path(path)), None
    atomic_write_text(path, json.dumps(doc, separators=(",", ":")))


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:
        return None
    return safetensors.numpy


def _save_tensors(ckpt: Checkpoint, path: Path) -> dict:
    import hashlib

    import numpy as np

    groups = {"params": ckpt.params} | ({"adam.m": ckpt.moments[0], "adam.v": ckpt.moments[1]} if ckpt.moments else {})
    tensors = {f"{group}/{name}": np.asarray(mats[name], dtype=np.float64)
               for group, mats in groups.items() for name in mats}
    blob = _safetensors().save(tensors)
    target = path.with_name(path.name.removesuffix(".json") + ".safetensors")
    atomic_write_bytes(target, blob)
    return {"safetensors": target.name, "sha256": hashlib.sha256(blob).hexdigest()}


def _load_tensors(path: Path, ref: dict) -> tuple[dict, tuple[dict, dict] | None]:
    import hashlib

    module = _safetensors()
    if module is None:
        raise OmakaseError(f"checkpoint {path} keeps its numbers in safetensors, which is not installed; "
                           f'from the checkout: pip install -e ".[torch]"')
    target = path.with_name(ref["safetensors"])
    if not target.is_file():
        raise OmakaseError(f"checkpoint {path} needs {target}, which is missing; keep the two files together")
    blob = target.read_bytes()
    if hashlib.sha256(blob).hexdigest() != ref["sha256"]:
        raise OmakaseError(f"{target} does not match checkpoint {path} (sha256 differs); the pair was not written "
                           f"together: restore both or retrain")
    groups: dict[str, dict] = {}
    for key, array in module.load(blob).items():
        group, name = key.split("/", 1)
        groups.setdefault(group, {})[name] = array.tolist()
    moments = (groups["adam.m"], groups["adam.v"]) if "adam.m" in groups else None
    return groups["params"], moments


def load(path: str | Path, allow_bpe: bool = False) -> Checkpoint:
    """The checkpoint at `path`; a BPE checkpoint only with allow_bpe (the character commands cannot use one)."""
    path = Path(path)
    if not path.is_file():
        raise OmakaseError(f"checkpoint {path} does not exist; train one (omakase train) or name an existing checkpoint file")
    holder = placeholder(path)
    if holder is not None:
        raise OmakaseError(f"{path} holds no checkpoint yet: it is reserved by a run (process {holder.get('pid')}) "
                           f"that is still going or stopped before writing it; wait for it, or delete the file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OmakaseError(f"checkpoint {path} is corrupt or truncated ({e}); retrain it or restore a copy") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise OmakaseError(f"{path} is not an omakase checkpoint (no \"format\": \"{FORMAT}\")")
    if doc.get("version") not in READS:
        raise OmakaseError(f"checkpoint {path} has version {doc.get('version')!r}; this omakase reads versions "
                           f"{', '.join(map(str, READS))}")
    ref = doc.get("params")
    tensors = _load_tensors(path, ref) if isinstance(ref, dict) and "safetensors" in ref else None
    try:
        config = GPTConfig(**doc["config"])
        chars, bpe = _tokenizer_of(doc)
        if bpe is not None and not allow_bpe:
            raise BPECheckpointError(path)
        tokenizer = BPE.from_dict(bpe) if bpe is not None else Tokenizer(chars)
        if tokenizer.vocab_size != config.vocab_size:
            raise ValueError(f"vocabulary has {tokenizer.vocab_size} tokens but config says {config.vocab_size}")
        params, moments = tensors if tensors else (doc["params"], None)
        _check_shapes(config, params, "params")
        if moments is not None:
            _check_shapes(config, moments[0], "adam.m")
            _check_shapes(config, moments[1], "adam.v")
        elif doc.get("adam") is not None:
            moments = (doc["adam"]["m"], doc["adam"]["v"])
            _check_shapes(config, moments[0], "adam.m")
            _check_shapes(config, moments[1], "adam.v")
        run = doc.get("run") or {}
    except BPECheckpointError:
        raise
    except (KeyError, TypeError, ValueError, OmakaseError) as e:
        raise OmakaseError(f"checkpoint {path} does not match its own config: {e}") from None
    try:
        _check_run(run)
    except ValueError as e:
        raise OmakaseError(f"checkpoint {path} has a damaged run record: {e}; retrain it or restore a copy") from None
    return Checkpoint(config, chars, params, moments, run, bpe)


class BPECheckpointError(OmakaseError):
    def __init__(self, where: str | Path):
        super().__init__(f"{where} was trained with a BPE tokenizer; use omakase assistant (Ming's character "
                         f"commands read character checkpoints only)")


def require_chars(ckpt: Checkpoint, where: str | Path = "the checkpoint") -> Checkpoint:
    """`ckpt` if it is character-level; a BPE checkpoint is one clear error for the character-only code."""
    if ckpt.bpe is not None:
        raise BPECheckpointError(where)
    return ckpt


def _tokenizer_of(doc: dict) -> tuple[str, dict | None]:
    """(chars, None) for a character checkpoint, ("", BPE dict) for a BPE one; version 1 is characters."""
    if doc["version"] == 1:
        return doc["chars"], None
    entry = doc["tokenizer"]
    if entry.get("kind") == "chars":
        return entry["chars"], None
    if entry.get("kind") == "bpe":
        return "", entry
    raise ValueError(f"tokenizer kind {entry.get('kind')!r} is neither 'chars' nor 'bpe'")


def _check_shapes(config: GPTConfig, mats: dict, what: str) -> None:
    for name, (rows, cols) in param_shapes(config):
        mat = mats.get(name)
        if not isinstance(mat, list) or len(mat) != rows or any(
            not isinstance(r, list) or len(r) != cols for r in mat
        ):
            raise ValueError(f"{what}[{name!r}] is missing or not {rows}x{cols}")
        if not all(isinstance(x, (int, float)) and math.isfinite(x) for r in mat for x in r):
            raise ValueError(f"{what}[{name!r}] holds a value that is not a finite number")
    extra = set(mats) - {name for name, _ in param_shapes(config)}
    if extra:
        raise ValueError(f"{what} has matrices the config does not know: {sorted(extra)}")


WHOLE = ("step", "steps", "seed", "batch_size", "warmup", "clipped")  # the run's fields that count something
REAL = ("lr", "min_lr", "beta1", "beta2", "weight_decay", "clip", "dropout", "init_std")


def _check_run(run) -> None:
    """The run's record holds what its readers (info, resume, the tour, the web page) take it to hold."""
    if not isinstance(run, dict):
        raise ValueError(f"run is {type(run).__name__}, not an object")

    def whole(x):
        return isinstance(x, int) and not isinstance(x, bool) and x >= 0

    def real(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    for key in WHOLE:
        if key in run and not whole(run[key]):
            raise ValueError(f"run.{key} is {run[key]!r}, not a whole number >= 0")
    for key in REAL:
        if key in run and not real(run[key]):
            raise ValueError(f"run.{key} is {run[key]!r}, not a finite number")
    for key in ("engine", "schedule"):
        if key in run and not isinstance(run[key], str):
            raise ValueError(f"run.{key} is {run[key]!r}, not a name")
    if "losses" in run and not (isinstance(run["losses"], list) and all(real(x) for x in run["losses"])):
        raise ValueError("run.losses is not a list of finite numbers")
    if "order" in run and not (isinstance(run["order"], list) and all(whole(x) for x in run["order"])):
        raise ValueError("run.order is not a list of document numbers")
    if "val" in run and not (isinstance(run["val"], list) and all(
            isinstance(v, dict) and whole(v.get("step")) and real(v.get("loss")) and whole(v.get("n_docs"))
            for v in run["val"])):
        raise ValueError("run.val is not a list of {step, loss, n_docs}")
    data = run.get("data")
    if data is not None and not (isinstance(data, dict) and isinstance(data.get("name", ""), str)
                                 and whole(data.get("n_docs", 0)) and isinstance(data.get("sha256", ""), str)):
        raise ValueError("run.data is not {name, sha256, n_docs}")
