"""What several commands share: the console, where runs live, outputs checked before work starts, and a
server's listening socket bound before anything loads."""

from __future__ import annotations

import errno
import math
import os
import re
import socket
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from ..engines import ENGINES
from ..errors import OmakaseError
from ..files import claim, placeholder, reserve, stale, written

console = Console()  # prose wraps at word boundaries at any width
RUNS = Path("runs")


def next_run_path(stem: str = "ming") -> Path:
    """runs/ming-001.json, runs/ming-002.json, ...: a fresh name, reserved at once (files.reserve)."""
    writable_folder(RUNS, "the runs folder")
    return reserve(RUNS, stem)


def next_to(path: Path) -> Path:
    """The next free name beside a checkpoint, reserved at once: runs/ming-001.json -> runs/ming-002.json,
    b.json -> b-001.json (where a resumed run goes: the checkpoint it started from stays as it was)."""
    return reserve(path.parent, re.sub(r"-\d{3,}$", "", path.stem))


def reserved(path: Path, force: bool, what: str = "output") -> Path:
    """`path`, created exclusively now (files.claim), so that a second run given the same path is refused
    instead of both writing it; with force an existing file is kept until the result replaces it."""
    if not claim(path, force):
        raise OmakaseError(taken(path, what))
    return path


def taken(path: Path, what: str) -> str:
    """Why `path` cannot be written without --force: another run reserved it, or a result is there."""
    holder = placeholder(path)
    if holder is not None:
        return f"{what} {path} is reserved by another run (process {holder.get('pid')}); choose another path"
    return f"{what} {path} already exists; pass --force to overwrite it or choose another path"


def checkpoint_file(path: Path | None, flag: str = "--checkpoint") -> Path:
    """The checkpoint a command reads: `path` if it is a file, the newest in ./runs if not given."""
    if path is None:
        return latest_checkpoint()
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "is not a regular file" if path.exists() else "does not exist"
        raise OmakaseError(f"{flag} {str(path)!r} {what}; give a checkpoint file (omakase train writes them to "
                           f"./runs)")
    return path


def latest_checkpoint() -> Path:
    found = sorted((p for p in RUNS.glob("*.json") if written(p)),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        raise OmakaseError("no checkpoint in ./runs; train one with `omakase train` or pass --checkpoint PATH")
    return found[-1]


def writable(path: Path, force: bool, what: str = "output") -> Path:
    """`path` if a file may be written there: refused now, before any work, rather than lost later."""
    if path.is_dir():
        raise OmakaseError(f"{what} {path} is a folder; give a file path")
    if path.exists() and not force and not stale(path):
        raise OmakaseError(taken(path, what))
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


# Bounds of the options many commands share, stated in their help and checked where they are defined.
SEED_MAX = 2**32 - 1  # NumPy's and PyTorch's seeding take at most 32 bits' worth everywhere
TEMPERATURE_MAX = 100.0  # far past uniform sampling already; beyond, logits / temperature lose every digit
ENGINE_HELP = "scalar (pure Python), numpy or torch: the same model, computed the same way by each."


def engine_option(default: str | None, help: str = ENGINE_HELP):
    """--engine, one of omakase.engines.ENGINES, refused at the option if it is another word."""
    return typer.Option(default, "--engine", help=help, callback=choice(ENGINES))


def choice(names):
    """A callback for a word option: one of `names`, else refused at the option in one line."""
    def check(value):
        if value is not None and value not in names:
            raise typer.BadParameter(f"must be one of {', '.join(names)}; got {value!r}")
        return value
    return check


def seed_option(default, help: str = "Random seed"):
    return typer.Option(default, "--seed", min=0, max=SEED_MAX, help=f"{help}.")  # the help shows the range


def temperature_option(default: float, help: str):
    return typer.Option(default, "--temperature", callback=number(0, TEMPERATURE_MAX),
                        help=f"{help} (0 to {TEMPERATURE_MAX:g})")


def dry_run_option():
    return typer.Option(False, "--dry-run", help="Check every option, file and output, then stop before any work.")


def not_blank(value):
    """A callback for a text or path option: an empty or blank value is refused at the option, not read as
    the current folder or as the option's default."""
    if value is not None and not str(value).strip():
        raise typer.BadParameter("is empty; give a value or leave the option out")
    return value


def number(low: float | None = None, high: float | None = None, above: bool = False, below: bool = False):
    """A callback for a float option: a finite number in [low, high] (above/below: the end itself excluded);
    a wrong value is refused at the option, in one line naming it."""
    def check(value):
        if value is None:
            return value
        if not math.isfinite(value):
            raise typer.BadParameter(f"must be a finite number, got {value}")
        if low is not None and (value < low or (above and value == low)):
            raise typer.BadParameter(f"must be {'>' if above else '>='} {low:g}, got {value:g}")
        if high is not None and (value > high or (below and value == high)):
            raise typer.BadParameter(f"must be {'<' if below else '<='} {high:g}, got {value:g}")
        return value
    return check


def remove_if_empty(folder: Path) -> None:
    """Remove `folder` if a failed run left it empty (the folder it reserved before its first result)."""
    try:
        folder.rmdir()  # only an empty folder goes
    except OSError:
        pass


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 layer', '2 layers', '1,000 records'."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound now: a taken port, a port this user may not open or a foreign address
    is one line here, before the app is built, rather than a traceback from the server."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise OmakaseError(f"--host {host!r} is not an address of this machine ({e}); try 127.0.0.1") from None
    family, kind, proto, _, address = infos[0]
    s = socket.socket(family, kind, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(address)
        s.listen(2048)
    except OSError as e:
        s.close()
        hint = "; ports below 1024 need administrator rights" if port < 1024 and e.errno == errno.EACCES else ""
        raise OmakaseError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}; choose another --port") from None
    s.set_inheritable(True)
    return s
