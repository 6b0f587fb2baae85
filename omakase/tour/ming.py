"""Ming for the tour: trained here with the reference settings, reused from the cache, or loaded.

The tour needs more than the final dials: snapshots at the stages of the growth
curve (steps 1, 100, 500 and the end), the held-out loss at each, and a record
of one dial's gradient at every step (to show Adam's memory). Training keeps
all of that; the cache folder keeps it for the next tour:

    <user cache>/omakase/tour/<key>/step-0001.json ... step-1000.json, record.json

The key hashes the data's sha256 and every training setting, so a different
dataset or plan never reuses another's Ming. record.json is written last: a
folder without it is an interrupted run and is trained again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from .. import checkpoint as ckpt_io
from .. import data as data_io
from .. import train as training
from ..adam import Adam
from ..checkpoint import Checkpoint
from ..files import atomic_write_text
from ..config import param_shapes
from ..errors import OmakaseError

REFERENCE = training.Plan(steps=1000, lr=0.01, batch_size=1, warmup=0, seed=42)
STAGES = (1, 100, 500, 1000)  # the article's growth curve: dish 1, 100, 500, 1,000
CACHE_VERSION = 2  # bump when what the cache holds changes


@dataclass
class Ming:
    final: Checkpoint
    stages: dict[int, Checkpoint]  # step -> snapshot; holds the final step too
    docs: list[str]  # the dataset, file order
    data_info: dict
    engine: str  # the engine that computes the bulk of the tour (training, cooking, held-out loss)
    origin: str  # "trained", "cached" or "checkpoint"
    record: dict = field(default_factory=dict)  # {"seconds", "watched": {...}} when the tour trained Ming
    where: str = ""  # the cache folder it was saved to or read from, or the checkpoint file it came from

    def run(self) -> training.Run:
        """The final run, with its shuffled records, tokenizer, engine and random stream."""
        return training.resume(self.final, self.docs, self.data_info, self.engine)

    def remember(self, name: str, compute):
        """`compute()`, kept as name.json in the cache folder of a trained or cached Ming, so the next tour
        reads it instead (a checkpoint's Ming computes it every time: its folder is the user's).

        The value goes through JSON either way, so a first tour and the next one see the same thing.
        """
        if self.origin == "checkpoint" or not self.where:
            return json.loads(json.dumps(compute()))
        path = Path(self.where) / f"{name}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # not there yet, or damaged: computed again
            value = json.dumps(compute())
            atomic_write_text(path, value)
            return json.loads(value)


def prepare(data: str | None, checkpoint: str | None, engine: str, retrain: bool = False,
            plan: training.Plan = REFERENCE, on_step=None) -> Ming:
    """Ming for the tour. `on_step(step, steps)` is called while training (for a progress bar)."""
    if checkpoint:
        return _from_checkpoint(Path(checkpoint), data, engine)
    docs, info = training.load_dataset(data)
    folder = data_io.cache_dir() / "tour" / _cache_key(info, plan)
    if not retrain:
        cached = _load_cached(folder, docs, info, engine)
        if cached is not None:
            return cached
    ming = _train(docs, info, plan, engine, on_step)
    ming.where = str(folder)
    for step, snapshot in ming.stages.items():
        ckpt_io.save(snapshot, folder / f"step-{step:04d}.json")
    atomic_write_text(folder / "record.json", json.dumps(ming.record))
    return ming


def initial(ming: Ming) -> Checkpoint:
    """Ming before his first dish: the same seed redraws the same starting dials."""
    r = ming.final.run
    plan = training.Plan(r["steps"], r["lr"], r["batch_size"], r["warmup"], r["seed"])
    c = ming.final.config
    run = training.start(ming.docs, ming.data_info, plan, ming.engine, c.n_layer, c.n_embd, c.n_head, c.block_size)
    return run.checkpoint()


def _cache_key(info: dict, plan: training.Plan) -> str:
    settings = f"v{CACHE_VERSION} {info['sha256']} {plan} {STAGES}"
    return hashlib.sha256(settings.encode()).hexdigest()[:16]


def _train(docs: list[str], info: dict, plan: training.Plan, engine: str, on_step) -> Ming:
    run = training.start(docs, info, plan, engine)
    stages = {s for s in STAGES if s < plan.steps} | {plan.steps}
    val_limit = None  # every held-out document (the numpy engine measures them in a fraction of a second)
    gradients = []  # every step's gradient, flat in dial order (to pick the dial whose memory we show)
    names = [name for name, _ in param_shapes(run.config)]

    extra = 0.0  # seconds spent on what only the tour needs: gradients kept, held-out losses, snapshots

    def watch(engine_now):
        nonlocal extra
        started = time.perf_counter()
        flat = getattr(engine_now, "grad", None)  # the fast engine keeps every gradient in one array, dial order
        if isinstance(flat, np.ndarray):
            gradients.append(flat.copy())
        else:
            g = engine_now.grads()
            rows = chain.from_iterable(g[name] for name in names)  # fromiter: half the time of ravelling lists
            gradients.append(np.fromiter(chain.from_iterable(rows), float))
        extra += time.perf_counter() - started

    snapshots, started = {}, time.perf_counter()
    while run.step < plan.steps:
        run.train_step(observe=watch)
        if run.step in stages:
            measured = time.perf_counter()
            run.validate(val_limit)
            snapshots[run.step] = run.checkpoint()
            extra += time.perf_counter() - measured
        if on_step:
            on_step(run.step, plan.steps)
    # training alone (what `omakase train` of the same plan spends), and the tour's own measurements apart
    seconds = time.perf_counter() - started - extra
    record = {"seconds": seconds, "extra_seconds": extra, "stages": len(snapshots), "engine": engine,
              "watched": _momentum(np.array(gradients), Adam())}
    return Ming(snapshots[plan.steps], snapshots, docs, info, engine, "trained", record)


def _momentum(gradients: np.ndarray, adam: Adam) -> dict:
    """The busiest dial's raw gradient at every step, and Adam's memory of it (m), by Adam's own rule."""
    dial = int(np.abs(gradients).mean(0).argmax())
    g = gradients[:, dial].tolist()
    m, memory = 0.0, []
    for x in g:
        m = adam.beta1 * m + (1 - adam.beta1) * x
        memory.append(m)
    return {"dial": dial, "gradient": g, "momentum": memory, "beta1": adam.beta1}


def _load_cached(folder: Path, docs, info, engine: str) -> Ming | None:
    """The cached Ming, or None when there is none or it is damaged (then it is trained again)."""
    record_path = folder / "record.json"
    if not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        stages = {int(p.stem.split("-")[1]): ckpt_io.load(p) for p in sorted(folder.glob("step-*.json"))}
    except (OmakaseError, json.JSONDecodeError, ValueError):
        return None
    if not stages:
        return None
    return Ming(stages[max(stages)], stages, docs, info, engine, "cached", record, str(folder))


def _from_checkpoint(path: Path, data: str | None, engine: str) -> Ming:
    """Another trained Ming; its stage snapshots are the `<name>-stepN.json` files next to it, if any."""
    final = ckpt_io.load(path)
    named = (final.run.get("data") or {}).get("name")
    if not named:
        raise OmakaseError(f"checkpoint {path} does not say which data it was trained on; it cannot be toured")
    data = data or training.recorded_data(final)
    docs, info = training.load_dataset(data) if data else _dataset_named(named)
    if info["sha256"] != final.run["data"]["sha256"]:
        raise OmakaseError(f"checkpoint {path} was trained on {named} with sha256 "
                           f"{final.run['data']['sha256'][:12]}..., not on {info['name']}; pass --data with that file")
    stages = {final.run.get("step", 0): final}
    for p in path.parent.glob(f"{path.stem}-step*{path.suffix}"):
        step = p.stem.rsplit("-step", 1)[1]
        if step.isdigit():
            stages[int(step)] = ckpt_io.load(p)
    return Ming(final, dict(sorted(stages.items())), docs, info, engine, "checkpoint", where=str(path))


def _dataset_named(name: str) -> tuple[list[str], dict]:
    try:
        path = data_io.resolve(None, name)
    except OmakaseError:
        raise OmakaseError(f"the checkpoint was trained on {name}, which is not on this machine; "
                           f"pass --data with that file") from None
    return training.load_dataset(str(path))
