"""The training loop: cook -> score -> trace -> adjust, dish after dish, for any engine.

A `Run` holds everything a training run is: the shuffled records, the
tokenizer, the engine with its parameters, Adam, the plan, the losses so far
and the random state. It turns into a checkpoint and back, so a run paused at
step 500 and resumed gives the very same 1,000 losses as a straight run.

The order of random draws is the reference's: seed, shuffle the documents,
draw every parameter; training itself draws nothing (step s uses training
document s, cycling), so sampling after training continues the same stream.

The plan and its learning-rate schedule are plan.py's, the same ones the torch stages'
loop (fit.py) reads. This loop stays its own: it trains every engine (scalar, numpy,
torch) through the Engine protocol with the hand-written Adam (adam.py), and its 1,000
reference losses are the oracle every engine is proven against.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import data
from .checkpoint import Checkpoint, require_chars
from .config import GPTConfig, check_memory, init_params
from .engines import engine_class
from .errors import OmakaseError
from .model.held_out import held_out_loss
from .plan import Plan, learning_rate
from .tokenizer import Tokenizer

RUNNING_WINDOW = 100  # the running mean loss is the mean of the last 100 steps' losses
VAL_DOCS = 200  # held-out documents measured during training (the first of the split, whatever the engine)


class Diverged(OmakaseError):
    """The loss stopped being a finite number; the run still holds the last finite state."""


@dataclass
class Run:
    plan: Plan
    config: GPTConfig
    tokenizer: Tokenizer
    docs: list[str]  # the records, in the shuffled order
    order: list[int]  # docs[i] is line order[i] of the dataset's documents
    engine: object
    data_info: dict
    random_state: tuple
    step: int = 0  # steps done
    losses: list[float] = field(default_factory=list)
    val: list[dict] = field(default_factory=list)
    clipped: int = 0  # steps whose gradients the cap on the gas valve had to scale down

    def __post_init__(self) -> None:
        self.adam = self.plan.adam()

    @property
    def n_train(self) -> int:
        return data.split(len(self.docs))

    @property
    def train_docs(self) -> list[str]:
        return self.docs[: self.n_train]

    @property
    def val_docs(self) -> list[str]:
        return self.docs[self.n_train :]

    def encode(self, doc: str) -> list[int]:
        return encoder(self.tokenizer, self.data_info)(doc)

    def batch(self, step: int) -> list[list[int]]:
        """Step s trains on the next batch_size training documents, cycling over the first 90%."""
        b, n = self.plan.batch_size, self.n_train
        return [self.encode(self.docs[(step * b + i) % n]) for i in range(b)]

    def train_step(self, observe=None) -> tuple[float, float]:
        """One dish: forward, loss, backward, Adam. Returns (loss, learning rate).

        `observe(engine)`, if given, is called between backward and the update, when the
        gradients are there to look at (the tour watches Adam's habits this way).
        """
        loss = self.engine.loss_and_grads(self.batch(self.step))
        if not math.isfinite(loss):  # stop before the update: the dials still hold the last finite state
            raise Diverged(f"the loss diverged ({loss}) at step {self.step + 1}; the dials hold the state after "
                           f"step {self.step}; try a smaller learning rate (this run's: {self.plan.lr})")
        if self.plan.clip and self.engine.clip_grads(self.plan.clip) > self.plan.clip:
            self.clipped += 1
        if observe is not None:
            observe(self.engine)
        lr = learning_rate(self.plan, self.step)
        self.engine.update(self.adam, lr, self.step + 1)
        self.step += 1
        self.losses.append(loss)
        return loss, lr

    @property
    def epochs(self) -> float:
        """How many times over the training documents the steps so far have gone."""
        return self.step * self.plan.batch_size / self.n_train

    def running_mean(self) -> float:
        window = self.losses[-RUNNING_WINDOW:]
        return sum(window) / len(window)

    def validate(self, limit: int | None = None) -> dict | None:
        """Mean loss per predicted token on the held-out documents (all of them, or the first `limit`)."""
        docs = self.val_docs[:limit] if limit else self.val_docs
        if not docs:
            return None
        result = {"step": self.step, "loss": held_out_loss(self.engine, [self.encode(d) for d in docs]),
                  "n_docs": len(docs)}
        self.val.append(result)
        return result

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            self.config,
            self.tokenizer.chars,
            self.engine.params(),
            self.engine.moments(),
            {
                **asdict(self.plan),
                "step": self.step,
                "clipped": self.clipped,
                "engine": self.engine.name,
                "data": self.data_info,
                "order": self.order,
                "random_state": [self.random_state[0], list(self.random_state[1]), self.random_state[2]],
                "losses": self.losses,
                "val": self.val,
            },
        )

    def rng(self) -> random.Random:
        """The random stream as it stood after initialization (for sampling after training)."""
        rng = random.Random()
        rng.setstate(self.random_state)
        return rng


def running_means(losses: list[float], window: int = RUNNING_WINDOW) -> list[float]:
    """At each step, the mean of the last `window` losses (fewer at the start): the curve a chart draws."""
    out, total = [], 0.0
    for i, x in enumerate(losses):
        total += x - (losses[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def shuffle(docs: list[str], rng: random.Random) -> tuple[list[int], list[str]]:
    """The reference's random.shuffle(docs), also returned as the permutation of the file's order."""
    order = list(range(len(docs)))
    rng.shuffle(order)  # the same permutation random.shuffle(docs) makes
    return order, [docs[i] for i in order]


def cut(docs: list[str], data_info: dict, block_size: int) -> list[str]:
    """The documents as training sees them: lines as they are; a stream's text cut into blocks of
    block_size + 1 characters overlapping by one, so every character but the first is predicted once."""
    if data_info.get("layout", "lines") == "lines":
        return docs
    text = docs[0]
    return [text[i : i + block_size + 1] for i in range(0, max(len(text) - 1, 1), block_size)]


def arrange(docs: list[str], data_info: dict, rng: random.Random, block_size: int) -> tuple[list[int], list[str]]:
    """The documents in training order, and that order as indices into cut(docs).

    Lines: the reference's shuffle of every document (the last 10% after it are held out).
    A stream: the held-out tenth is the end of the text, in order, and only the training blocks
    are shuffled (neighbouring blocks share a character: a shuffled split would leak).
    """
    docs = cut(docs, data_info, block_size)
    if data_info.get("layout", "lines") == "lines":
        return shuffle(docs, rng)
    n_train = data.split(len(docs))
    order = list(range(n_train))
    rng.shuffle(order)
    order += range(n_train, len(docs))
    return order, [docs[i] for i in order]


def encoder(tokenizer: Tokenizer, data_info: dict):
    """Token ids of a document: bell, courses, bell for lines; a stream's block has no bells."""
    return tokenizer.encode if data_info.get("layout", "lines") == "lines" else tokenizer.ids


def start(docs: list[str], data_info: dict, plan: Plan, engine: str, n_layer=1, n_embd=16, n_head=4,
          block_size=16, engine_options: dict | None = None) -> Run:
    """A new run, drawing its randomness exactly as the reference does.

    `engine_options` go to the engine's constructor (the torch engine takes dtype and device).
    """
    rng = random.Random(plan.seed)
    order, shuffled = arrange(docs, data_info, rng, block_size)
    tokenizer = Tokenizer.from_docs(shuffled)
    config = GPTConfig(tokenizer.vocab_size, n_layer, n_embd, n_head, block_size)
    check_memory(config, plan.batch_size)
    params = init_params(config, rng, plan.init_std)
    return Run(plan, config, tokenizer, shuffled, order, make(engine, config, params, None, plan, engine_options),
               data_info, rng.getstate())


def resume(ckpt: Checkpoint, docs: list[str], data_info: dict, engine: str, engine_options: dict | None = None) -> Run:
    """The run a checkpoint froze, ready to go on (docs: the dataset's documents, in file order)."""
    require_chars(ckpt)  # a BPE checkpoint is the assistant's; these runs speak characters
    r = ckpt.run
    try:
        if r["data"]["sha256"] != data_info["sha256"]:
            raise OmakaseError(
                f"the checkpoint was trained on {r['data']['name']} with sha256 {r['data']['sha256'][:12]}..., "
                f"not on this data ({data_info['sha256'][:12]}...); train on the same data file"
            )
        plan = plan_of(r)
        order = r["order"]
        state = r["random_state"]
        random_state = (state[0], tuple(state[1]), state[2])
        step, losses, val, clipped = r["step"], list(r["losses"]), list(r["val"]), r.get("clipped", 0)
    except (KeyError, TypeError, IndexError) as e:
        raise OmakaseError(f"the checkpoint holds no resumable run ({e!r} missing); train a new one") from None
    docs = cut(docs, data_info, ckpt.config.block_size)
    if sorted(order) != list(range(len(docs))):
        raise OmakaseError("the checkpoint's document order does not fit this data; train on the same data file")
    shuffled = [docs[i] for i in order]
    tokenizer = ckpt.tokenizer
    return Run(plan, ckpt.config, tokenizer, shuffled, order,
               make(engine, ckpt.config, ckpt.params, ckpt.moments, plan, engine_options), data_info,
               random_state, step, losses, val, clipped)


def make(engine: str, config, params, moments, plan: Plan, options: dict | None):
    """The engine for a run: its options, and dropout from the plan (only the torch engine has it)."""
    options = {**(options or {}), **({"dropout": plan.dropout} if plan.dropout else {})}
    cls = engine_class(engine)
    try:
        return cls(config, params, moments, **options)
    except TypeError:
        raise OmakaseError(f"the {engine} engine takes no {', '.join(sorted(options))}; use the torch engine") from None


def plan_of(run: dict) -> Plan:
    """The plan a checkpoint's run records (older checkpoints hold only the reference's fields)."""
    return Plan(**{f.name: run[f.name] for f in fields(Plan) if f.name in run})


def plan_from(settings: dict, seed: int) -> Plan:
    """The plan of a preset's settings (config.settings_for gives every field Ming's runs choose but the seed)."""
    return Plan(seed=seed, **{f.name: settings[f.name] for f in fields(Plan) if f.name != "seed" and f.name in settings})


def recorded_data(ckpt: Checkpoint) -> str | None:
    """The file a checkpoint was trained on, if it is still where training read it."""
    path = (ckpt.run.get("data") or {}).get("path")
    return path if path and Path(path).is_file() else None


def load_dataset(path_or_none: str | None, layout: str | None = None) -> tuple[list[str], dict]:
    """The documents of a dataset (file order; a stream is one document) and what identifies it in a checkpoint.

    `layout` ("lines" or "stream") overrides the one a known data set has (a file by path: lines).
    """
    path = data.resolve(path_or_none)
    layout = layout or data.layout_of(path)
    if layout not in ("lines", "stream"):
        raise OmakaseError(f"a layout is lines or stream, got {layout!r}")
    docs = data.read_docs(path) if layout == "lines" else [data.read_text(path)]
    return docs, {"name": path.name, "path": str(path.resolve()), "sha256": data.sha256_of(path), "n_docs": len(docs),
                  "layout": layout}
