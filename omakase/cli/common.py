"""What several commands share: the console, where runs live, and safe output paths."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from ..errors import OmakaseError

console = Console(soft_wrap=True)  # long lines (commands to copy) are never broken
RUNS = Path("runs")


def next_run_path(stem: str = "ming") -> Path:
    """runs/ming-001.json, runs/ming-002.json, ...: a fresh name, so nothing is overwritten."""
    i = 1
    while (RUNS / f"{stem}-{i:03d}.json").exists():
        i += 1
    return RUNS / f"{stem}-{i:03d}.json"


def latest_checkpoint() -> Path:
    found = sorted(RUNS.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise OmakaseError("no checkpoint in ./runs; train one with `omakase train` or pass --checkpoint PATH")
    return found[-1]


def writable(path: Path, force: bool, what: str = "output") -> Path:
    if path.exists() and not force:
        raise OmakaseError(f"{what} {path} already exists; pass --force to overwrite it or choose another path")
    if path.exists() and path.is_dir():
        raise OmakaseError(f"{what} {path} is a folder; give a file path")
    return path
