"""Inference on a trained Ming: the questions anyone may ask him, over the one Model (omakase.model).

Cook names, write on (a stream model), score names course by course, and
measure the held-out loss. Ming's model is loaded by model.load and given the
data it was trained on when that is on this machine (load_with_data), so a
sampled name can be marked against the records and the run's split rebuilt.
Every function returns plain data (dataclasses); none prints, and no error
names a command-line flag (the CLI, the web page and the benchmarks add
their own hints).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

from . import data as data_io
from . import train as training
from .checkpoint import Checkpoint
from .errors import OmakaseError
from .model import Model, Sampler, held_out_loss, load
from .sample import cook as cook_names
from .sample import course_probabilities
from .sample import write as write_text

FROM_THE_RECORDS, INVENTED, UNKNOWN = "from the records", "invented", "unknown"


@dataclass
class Dataset:
    docs: list[str]  # in the file's order
    info: dict  # name, path, sha256, n_docs: what a checkpoint records about it


@dataclass
class Split:
    train: list[str]
    val: list[str]  # held out: never trained on


def split_of(model: Model) -> Split | None:
    """The run's split of its dataset: the seeded shuffle, the last 10% held out (None without data)."""
    if model.dataset is None:
        return None
    _, shuffled = training.arrange(model.dataset.docs, model.dataset.info, random.Random(model.seed),
                                   model.config.block_size)
    n_train = data_io.split(len(shuffled))
    return Split(shuffled[:n_train], shuffled[n_train:])


def records(model: Model) -> set[str] | None:
    return None if model.dataset is None else set(model.dataset.docs)


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


def load_with_data(path: str | Path, engine: str = "numpy", data: str | None = None, **options) -> Model:
    """Ming's model at `path` (characters only) with the data it was trained on attached (or `data`)."""
    model = load(path, engine, kind="chars", **options)
    model.dataset = dataset_of(model.checkpoint, data)
    return model


@dataclass
class SampledName:
    name: str
    kind: str  # FROM_THE_RECORDS, INVENTED, or UNKNOWN when the records are not on this machine


def cook(model: Model, n: int = 20, temperature: float = 0.5, seed: int | None = None,
         prefix: str = "") -> list[SampledName]:
    """`n` names at `temperature`, each marked against the records."""
    Sampler(temperature)  # checks the value before anything is computed
    names = cook_names(model.engine, model.tokenizer, model.rng(seed), n, temperature, prefix)
    known = records(model)
    return [SampledName(name, UNKNOWN if known is None else FROM_THE_RECORDS if name in known else INVENTED)
            for name in names]


def is_stream(model: Model) -> bool:
    """A model of one continuous text (Shakespeare) writes on rather than cooking names."""
    return (model.run.get("data") or {}).get("layout", "lines") == "stream"


def write(model: Model, length: int = 300, temperature: float = 1.0, seed: int | None = None, prefix: str = "") -> str:
    """`length` characters written on after `prefix` by a stream model."""
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
    parts = split_of(model)
    if parts is None:
        name = (model.run.get("data") or {}).get("name", "its dataset")
        raise OmakaseError(f"the checkpoint was trained on {name}, which is not on this machine unchanged")
    docs = parts.val if split == "val" else parts.train
    if not docs:
        raise OmakaseError(f"the {split} split is empty (the dataset has {len(model.dataset.docs)} documents)")
    encode = training.encoder(model.tokenizer, model.dataset.info)
    tokens = [encode(d, f"document {i} of the {split} split; the checkpoint's vocabulary differs")
              for i, d in enumerate(docs, 1)]
    loss = held_out_loss(model, tokens, progress)
    positions = sum(min(model.config.block_size, len(t) - 1) for t in tokens)
    return Evaluation(loss, split, len(docs), positions, model.dataset.info["name"])
