"""The checkpoints a server knows, by id: the client picks from this list and never names a path.

An id is a file's stem ("ming-001"). The shelf scans its runs folder (where the
page's training also writes) plus the checkpoints given at start, and keeps a
few loaded models so that every request does not re-read a JSON file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from .. import checkpoint as ckpt_io
from .. import files
from .. import inference
from ..model import Model
from ..errors import OmakaseError

KEEP_LOADED = 4  # models held in memory at once (each is a few MB at most for the sizes the page trains)


class Shelf:
    def __init__(self, runs: Path, extra: list[Path] = ()):
        self.runs = Path(runs)
        self.extra = [Path(p) for p in extra]
        self._loaded: OrderedDict[tuple, Model] = OrderedDict()
        self._lock = threading.Lock()

    def paths(self) -> dict[str, Path]:
        """id -> path, newest last; placeholders (a name reserved by a run not yet written) are skipped."""
        found = sorted((p for p in self.runs.glob("*.json") if files.written(p)),
                       key=lambda p: (p.stat().st_mtime, p.name)) if self.runs.is_dir() else []
        out = {}
        for p in self.extra + found:
            out.setdefault(p.stem, p)
        return out

    def ids(self) -> list[str]:
        return list(self.paths())

    def default(self) -> str | None:
        """The checkpoint given at start, else the newest in the runs folder."""
        ids = self.ids()
        return (self.extra[0].stem if self.extra else ids[-1]) if ids else None

    def path(self, ckpt_id: str | None) -> Path:
        paths = self.paths()
        if ckpt_id is None or ckpt_id == "":
            ckpt_id = self.default()
            if ckpt_id is None:
                raise OmakaseError("no checkpoint yet: train one on the page (or start with --checkpoint)")
        if ckpt_id not in paths:
            shown = ", ".join(list(paths)[-8:]) or "none yet"
            raise OmakaseError(f"unknown checkpoint {ckpt_id[:40]!r}; the server knows: {shown}")
        return paths[ckpt_id]

    def model(self, ckpt_id: str | None) -> Model:
        """The loaded model (numpy engine), reloaded when its file changed."""
        path = self.path(ckpt_id)
        key = (str(path), path.stat().st_mtime_ns)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        model = inference.load_with_data(path, "numpy")
        with self._lock:
            self._loaded[key] = model
            while len(self._loaded) > KEEP_LOADED:
                self._loaded.popitem(last=False)
        return model

    def reserve(self, stem: str = "web") -> Path:
        """runs/web-NNN.json: a fresh name, reserved at once (as the CLI reserves its own)."""
        return files.reserve(self.runs, stem)


_summaries: dict[tuple, dict] = {}  # (path, mtime) -> summary: the list is asked for often, files change rarely


def summary(ckpt_id: str, path: Path) -> dict:
    """What the checkpoint list shows: shape and progress, read without building an engine."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _summaries:
        _summaries[key] = _summary(ckpt_id, path)
    return _summaries[key]


def _summary(ckpt_id: str, path: Path) -> dict:
    try:
        c = ckpt_io.load(path)
    except OmakaseError as e:
        return {"id": ckpt_id, "error": str(e)}
    run = c.run
    val = run.get("val") or []
    return {"id": ckpt_id, "n_layer": c.config.n_layer, "n_embd": c.config.n_embd, "n_head": c.config.n_head,
            "block_size": c.config.block_size, "step": run.get("step", 0), "steps": run.get("steps"),
            "data": (run.get("data") or {}).get("name"), "held_out": val[-1] if val else None}
