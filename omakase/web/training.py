"""The one training a server runs at a time, in a background thread the page can watch and steer.

The thread trains with omakase.train's own Run (so a page-trained Ming is the same as a
command-line one), measures the held-out loss and cooks a few names at snapshots, and
writes a checkpoint when the run ends, is stopped, or the server shuts down. Readers
(the event stream, the state route) only copy what the thread appended: Python lists
appended by one thread and read by another are safe under the GIL.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from .. import checkpoint as ckpt_io
from .. import train as training
from ..config import count_params, settings_for
from ..errors import OmakaseError
from ..sample import cook

SNAPSHOTS = 10  # held-out loss and names this many times per run (and at the end)
SNAPSHOT_NAMES = 5
SNAPSHOT_TEMPERATURE = 0.5
SNAPSHOT_SEED = 7  # the same seed at every snapshot: the names change only because Ming does
VAL_DOCS = training.VAL_DOCS  # held-out documents per snapshot, as `omakase train` measures during training


class Busy(OmakaseError):
    """A training is already running (the route answers 409)."""


@dataclass(frozen=True)
class Dials:
    """What the page may choose; bounds are checked by the route, the model's own rules by GPTConfig/Plan."""
    n_layer: int = 1
    n_embd: int = 16
    n_head: int = 4
    steps: int = 1000
    lr: float = 0.01
    batch_size: int = 1
    seed: int = 42


class Session:
    def __init__(self, shelf, docs_and_info=None):
        self.shelf = shelf
        self._data = docs_and_info  # (docs, info) of names.txt, read on first use
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._go = threading.Event()  # cleared while paused
        self._stop = threading.Event()
        self._reset()

    def _reset(self) -> None:
        self.state = "idle"  # idle, running, paused, done, stopped, failed
        self.run: training.Run | None = None
        self.dials: Dials | None = None
        self.snapshots: list[dict] = []  # {"step", "held_out", "names"}
        self.checkpoint: str | None = None  # the id it was saved as
        self.error: str | None = None
        self.held_out: dict | None = None  # at the end, every held-out document: what `omakase eval` and the tour print
        self.started = self.seconds = 0.0
        self.rate: list[list[float]] = []  # [[step, steps per second over the last interval]]

    # --- control ------------------------------------------------------------
    def start(self, dials: Dials) -> dict:
        with self._lock:
            if self.state in ("running", "paused"):
                raise Busy("a training is already running on this server; stop it first")
            if self._data is None:
                self._data = training.load_dataset(None)
            docs, info = self._data
            chosen, _ = settings_for("reference", n_layer=dials.n_layer, n_embd=dials.n_embd, n_head=dials.n_head,
                                     steps=dials.steps, lr=dials.lr, batch_size=dials.batch_size)
            plan = training.plan_from(chosen, dials.seed)
            run = training.start(docs, info, plan, "numpy", dials.n_layer, dials.n_embd, dials.n_head,
                                 chosen["block_size"])  # may raise OmakaseError: bad shape, too big
            self._reset()
            self.run, self.dials, self.state = run, dials, "running"
            self._stop.clear()
            self._go.set()
            self._thread = threading.Thread(target=self._loop, name="omakase-web-training", daemon=True)
            self._thread.start()
            return self.status()

    def pause(self) -> dict:
        with self._lock:
            if self.state != "running":
                raise Busy(f"nothing to pause: the training is {self.state}")
            self._go.clear()
            self.state = "paused"
            return self.status()

    def resume(self) -> dict:
        with self._lock:
            if self.state != "paused":
                raise Busy(f"nothing to resume: the training is {self.state}")
            self.state = "running"
            self._go.set()
            return self.status()

    def stop(self, wait: float = 30.0) -> dict:
        """Stop after the current step; the thread writes the checkpoint before it ends."""
        with self._lock:
            if self.state not in ("running", "paused"):
                raise Busy(f"nothing to stop: the training is {self.state}")
            self._stop.set()
            self._go.set()
        self.join(wait)
        return self.status()

    def join(self, wait: float) -> None:
        if self._thread is not None:
            self._thread.join(wait)

    def shutdown(self) -> None:
        """The server is closing (Ctrl-C): a running or paused training is stopped and saved."""
        if self.state in ("running", "paused"):
            self.stop()

    # --- the thread ---------------------------------------------------------
    def _loop(self) -> None:
        run = self.run
        every = max(1, run.plan.steps // SNAPSHOTS)
        self.started = last_t = time.perf_counter()
        last_step = 0
        try:
            self._snapshot()  # step 0: the untrained Ming, for the curve's start and the first names
            while run.step < run.plan.steps and not self._stop.is_set():
                if not self._go.is_set():
                    paused = time.perf_counter()
                    self._go.wait()
                    self.started += time.perf_counter() - paused  # a pause is not training time
                    last_t += time.perf_counter() - paused
                    continue
                run.train_step()
                now = time.perf_counter()
                if now - last_t >= 0.5:
                    self.rate.append([run.step, (run.step - last_step) / (now - last_t)])
                    last_t, last_step = now, run.step
                if run.step % every == 0 or run.step == run.plan.steps:
                    self._snapshot()
            if self.snapshots[-1]["step"] != run.step:
                self._snapshot()
            final = "stopped" if self._stop.is_set() else "done"
        except OmakaseError as e:  # Diverged: the dials still hold the last finite state, which is saved
            self.error, final = str(e), "failed"
        self.seconds = time.perf_counter() - self.started
        if run.step:  # measured once, after the clock stopped: the whole held-out set costs more than a snapshot
            self.held_out = run.validate(None)
        try:
            self._save()
        except OSError as e:  # a full disk must not leave the session "running" for ever
            self.error, final = f"could not write the checkpoint: {e.strerror or e}", "failed"
        self.state = final

    def _snapshot(self) -> None:
        run = self.run
        held = run.validate(VAL_DOCS)
        names = cook(run.engine, run.tokenizer, random.Random(SNAPSHOT_SEED), SNAPSHOT_NAMES,
                     SNAPSHOT_TEMPERATURE)
        self.snapshots.append({"step": run.step, "held_out": held["loss"] if held else None, "names": names})

    def _save(self) -> None:
        if self.run.step == 0:
            return
        path = self.shelf.reserve()
        ckpt_io.save(self.run.checkpoint(), path)
        self.checkpoint = path.stem

    # --- what readers see ---------------------------------------------------
    def status(self, since: int = 0) -> dict:
        """The state, and every step's loss and running mean from step `since` on (steps count from 1)."""
        run = self.run
        if run is None:
            return {"state": self.state, "step": 0, "steps": 0}
        losses = run.losses[:]  # a copy taken at once: the thread may append meanwhile
        since = max(0, min(since, len(losses)))
        means = training.running_means(losses[max(0, since - training.RUNNING_WINDOW):])[-(len(losses) - since):] \
            if len(losses) > since else []
        elapsed = (self.seconds if self.state in ("done", "stopped", "failed") else
                   time.perf_counter() - self.started if self.started else 0.0)
        return {
            "state": self.state, "step": len(losses), "steps": run.plan.steps, "since": since,
            "loss": losses[since:], "running": means, "snapshots": self.snapshots[:],
            # while running: over the last half second; once ended: the whole run's mean
            "steps_per_s": (self.rate[-1][1] if self.rate and self.state in ("running", "paused") else
                            len(losses) / elapsed if elapsed else None),
            "seconds": elapsed, "dials": self.dials.__dict__ if self.dials else None,
            "params": count_params(run.config),
            "checkpoint": self.checkpoint, "error": self.error, "held_out": self.held_out, "snapshot_docs": VAL_DOCS,
        }
