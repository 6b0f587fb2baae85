"""One way in: a trained Ming, loaded once, and the questions anyone may ask him.

The CLI, the tour, the web kitchen and the benchmarks all come through here:
load a model from a checkpoint (with the data it was trained on, its tokenizer,
an engine and its random stream), rebuild its split, cook, score, evaluate.
Every function returns plain data (dataclasses); none prints, and no error
names a command-line flag (the CLI adds its own hints).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from . import checkpoint as ckpt_io
from . import data as data_io
from . import train as training
from .checkpoint import Checkpoint
from .engines import Engine, make_engine
from .errors import OmakaseError
from .sample import cook as cook_names
from .sample import course_probabilities
from .sample import write as write_text
from .tokenizer import Tokenizer

FROM_THE_RECORDS, INVENTED, UNKNOWN = "from the records", "invented", "unknown"


@dataclass
class Dataset:
    docs: list[str]  # in the file's order
    info: dict  # name, path, sha256, n_docs: what a checkpoint records about it


@dataclass
class Split:
    train: list[str]
    val: list[str]  # held out: never trained on


@dataclass
class Model:
    checkpoint: Checkpoint
    path: Path | None
    engine: Engine
    dataset: Dataset | None  # the data it was trained on (or the data asked for), when it is on this machine

    @property
    def config(self):
        return self.checkpoint.config

    @property
    def tokenizer(self) -> Tokenizer:
        return self.checkpoint.tokenizer

    @property
    def seed(self) -> int:
        return self.checkpoint.run.get("seed", 42)

    def rng(self, seed: int | None = None) -> random.Random:
        """A fresh stream for `seed`; without one, the run's own stream as it stood after initialization
        (so cooking right after training and cooking from the checkpoint give the same names)."""
        state = self.checkpoint.run.get("random_state")
        if seed is not None or state is None:
            return random.Random(self.seed if seed is None else seed)
        rng = random.Random()
        rng.setstate((state[0], tuple(state[1]), state[2]))
        return rng

    def split(self) -> Split | None:
        """The run's split of its dataset: the seeded shuffle, the last 10% held out (None without data)."""
        if self.dataset is None:
            return None
        _, shuffled = training.arrange(self.dataset.docs, self.dataset.info, random.Random(self.seed),
                                       self.config.block_size)
        n_train = data_io.split(len(shuffled))
        return Split(shuffled[:n_train], shuffled[n_train:])

    def records(self) -> set[str] | None:
        return None if self.dataset is None else set(self.dataset.docs)


def load_dataset(data: str | None = None, layout: str | None = None) -> Dataset:
    """A dataset by path or known name (None: the shipped names); `layout` lines or stream (default: its own)."""
    docs, info = training.load_dataset(data, layout)
    return Dataset(docs, info)


def dataset_of(ckpt: Checkpoint, data: str | None = None) -> Dataset | None:
    """`data` when given; else the dataset the checkpoint records, if it is on this machine unchanged
    (where training read it, or as a known data set), else None."""
    recorded = ckpt.run.get("data") or {}
    if data is not None:
        return load_dataset(data, recorded.get("layout"))
    for where in (training.recorded_data(ckpt), recorded.get("name")):
        if not where:
            continue
        try:
            found = load_dataset(where, recorded.get("layout"))
        except OmakaseError:
            continue
        if found.info["sha256"] == recorded.get("sha256"):
            return found
    return None


def load_model(path: str | Path, engine: str = "numpy", data: str | None = None) -> Model:
    ckpt = ckpt_io.load(path)
    return Model(ckpt, Path(path), make_engine(engine, ckpt), dataset_of(ckpt, data))


@dataclass
class Dish:
    name: str
    kind: str  # FROM_THE_RECORDS, INVENTED, or UNKNOWN when the records are not on this machine


def cook(model: Model, n: int = 20, temperature: float = 0.5, seed: int | None = None, prefix: str = "") -> list[Dish]:
    """`n` names at `temperature`, each marked against the records."""
    _check_finite(temperature=temperature)
    names = cook_names(model.engine, model.tokenizer, model.rng(seed), n, temperature, prefix)
    records = model.records()
    return [Dish(name, UNKNOWN if records is None else FROM_THE_RECORDS if name in records else INVENTED)
            for name in names]


def is_stream(model: Model) -> bool:
    """A model of one continuous text (Shakespeare) writes on rather than cooking names."""
    return (model.checkpoint.run.get("data") or {}).get("layout", "lines") == "stream"


def write(model: Model, length: int = 300, temperature: float = 1.0, seed: int | None = None, prefix: str = "") -> str:
    """`length` characters written on after `prefix` by a stream model."""
    _check_finite(temperature=temperature)
    return write_text(model.engine, model.tokenizer, model.rng(seed), length, temperature, prefix)


@dataclass
class Course:
    course: str  # the token that came next ("<bell>" for the end)
    p: float  # the probability Ming gave it
    penalty: float  # -ln p


@dataclass
class NameScore:
    name: str
    courses: list[Course]
    mean_loss: float


def score(model: Model, names: list[str]) -> list[NameScore]:
    """For each course of each name, the probability Ming gave it and its penalty."""
    results = []
    for name in names:
        if len(name) + 1 > model.config.block_size:
            raise OmakaseError(f"{name!r} has {len(name)} characters; at most {model.config.block_size - 1} fit "
                               f"in this model's block")
        courses = [Course(c, p, -math.log(p)) for c, p in course_probabilities(model.engine, model.tokenizer, name)]
        results.append(NameScore(name, courses, sum(c.penalty for c in courses) / len(courses)))
    return results


@dataclass
class Evaluation:
    loss: float  # mean -ln p per predicted token
    split: str  # "val" or "train"
    documents: int
    positions: int  # predictions scored
    data_name: str


def evaluate(model: Model, split: str = "val", progress=None) -> Evaluation:
    """Mean loss per predicted token on the held-out (or training) part of the model's dataset."""
    if split not in ("val", "train"):
        raise OmakaseError(f"the split is val or train, got {split!r}")
    parts = model.split()
    if parts is None:
        name = (model.checkpoint.run.get("data") or {}).get("name", "its dataset")
        raise OmakaseError(f"the checkpoint was trained on {name}, which is not on this machine unchanged")
    docs = parts.val if split == "val" else parts.train
    if not docs:
        raise OmakaseError(f"the {split} split is empty (the dataset has {len(model.dataset.docs)} documents)")
    encode = training.encoder(model.tokenizer, model.dataset.info)
    tokens = [encode(d, f"document {i} of the {split} split; the checkpoint's vocabulary differs")
              for i, d in enumerate(docs, 1)]
    loss = training.mean_loss(model.engine, tokens, progress)
    positions = sum(min(model.config.block_size, len(t) - 1) for t in tokens)
    return Evaluation(loss, split, len(docs), positions, model.dataset.info["name"])


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise OmakaseError(f"{name} must be a finite number, got {value}")
