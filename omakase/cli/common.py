"""What several commands share: the console, where runs live, and outputs checked before work starts."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from rich.console import Console

from ..checkpoint import reserve
from ..errors import OmakaseError

console = Console()  # prose wraps at word boundaries at any width
RUNS = Path("runs")


def next_run_path(stem: str = "ming") -> Path:
    """runs/ming-001.json, runs/ming-002.json, ...: a fresh name, reserved at once (checkpoint.reserve)."""
    writable_folder(RUNS, "the runs folder")
    return reserve(RUNS, stem)


def latest_checkpoint() -> Path:
    found = sorted((p for p in RUNS.glob("*.json") if p.stat().st_size), key=lambda p: p.stat().st_mtime)
    if not found:
        raise OmakaseError("no checkpoint in ./runs; train one with `omakase train` or pass --checkpoint PATH")
    return found[-1]


def writable(path: Path, force: bool, what: str = "output") -> Path:
    """`path` if a file may be written there: refused now, before any work, rather than lost later."""
    if path.is_dir():
        raise OmakaseError(f"{what} {path} is a folder; give a file path")
    if path.exists() and not force:
        raise OmakaseError(f"{what} {path} already exists; pass --force to overwrite it or choose another path")
    if path.exists() and not os.access(path, os.W_OK):
        raise OmakaseError(f"{what} {path} is read-only; choose another path or change its permissions")
    writable_folder(path.parent, f"the folder of {what} {path}")
    return path


def writable_folder(folder: Path, what: str) -> None:
    """Refuse a folder that cannot be created or written to (the nearest existing parent decides)."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OmakaseError(f"{what} cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OmakaseError(f"{what} cannot be written: no permission to write in {existing}; choose another path")
    try:  # permissions are not the whole story (root, read-only mounts, /proc): try a real file there
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as e:
        raise OmakaseError(f"{what} cannot be written: {existing} refuses new files ({e.strerror}); "
                           f"choose another path") from None


def finite(value: float, flag: str) -> float:
    if not math.isfinite(value):
        raise OmakaseError(f"{flag} must be a finite number, got {value}")
    return value


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 layer', '2 layers', '1,000 records'."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"
