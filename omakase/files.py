"""Writing files so that nothing is lost: atomic writes, and names reserved before any work.

An atomic write goes to a temporary file in the same folder, is flushed to disk,
then renamed over the target: a reader (or a crash) sees the old file or the new
one, never half of one. A reserved name is created exclusively, so two runs
started together never pick the same file.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, blob: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes private files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def reserve(folder: str | Path, stem: str) -> Path:
    """folder/stem-001.json, stem-002.json, ...: a fresh name, reserved at once (see claim)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    i = 1
    while True:
        path = folder / f"{stem}-{i:03d}.json"
        if claim(path):
            return path
        i += 1


PLACEHOLDER = "omakase-placeholder"  # the "format" of a reserved file that no result has replaced yet


def claim(path: str | Path, force: bool = False) -> bool:
    """Reserve `path` for a result written later; False if it is taken.

    The name is taken by creating the file exclusively, holding a small placeholder that says
    which process took it, so two runs given the same output never both write it. A placeholder
    left by a process that is no longer running (killed before its first write) is taken over.
    With force an existing file is taken as it is: it stays until the result replaces it.
    """
    path = Path(path)
    mark = json.dumps({"format": PLACEHOLDER, "pid": os.getpid(), "host": socket.gethostname()})
    for _ in range(2):
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(mark + "\n")
            return True
        except FileExistsError:
            if force:
                return True
            holder = placeholder(path)
            if holder is None or _alive(holder):
                return False
            path.unlink(missing_ok=True)  # a stale placeholder: its process died before writing
    return False


def placeholder(path: str | Path) -> dict | None:
    """What a reserved, not yet written file says about its holder; None for any other file."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
        doc = json.loads(head)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == PLACEHOLDER else None


def written(path: str | Path) -> bool:
    """True if `path` is a file a run finished writing: not an empty name reserved the old way, not a
    placeholder (what lists of checkpoints show)."""
    path = Path(path)
    return path.is_file() and path.stat().st_size > 0 and placeholder(path) is None


def stale(path: str | Path) -> bool:
    """True if `path` is a placeholder whose process is no longer running: free to be taken over."""
    holder = placeholder(path)
    return holder is not None and not _alive(holder)


def release(path: str | Path) -> None:
    """Remove this process's placeholder at `path` (a run that failed before writing); anything else stays."""
    holder = placeholder(path)
    if holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        Path(path).unlink(missing_ok=True)


def _alive(holder: dict) -> bool:
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return True  # another machine's process (a shared folder): assume it is still running
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
