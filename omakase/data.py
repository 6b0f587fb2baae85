"""The master's records: where a dataset comes from, and how it is split.

A dataset is a UTF-8 text file. `--data` takes a path, or the name of a known
data set (`names`, `shakespeare`). Lookup order for a known data set:

  1. --data PATH (a file, or a folder holding the file),
  2. $OMAKASE_DATA_DIR/<file>, when the variable is set and the file is there,
  3. the copy shipped inside the package (names.txt only: 228 KB, so omakase
     runs on a fresh machine with no network),
  4. the user cache ($XDG_CACHE_HOME or ~/.cache)/omakase/<file>,
  5. a download from the pinned canonical URL, checked against its sha256, then cached.

The shipped names.txt is makemore's, commit 988aa59
(https://raw.githubusercontent.com/karpathy/makemore/988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt),
sha256 0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d; it is
checked against that digest whenever it is used.

Documents: one per non-blank line, stripped (as in the reference), for names and
any file given by path; a "stream" data set (shakespeare) is one continuous text,
which training cuts into blocks (train.arrange).

The split: after the seeded shuffle, the last 10% of the documents are held
out for validation and training cycles over the first 90% only. The
reference's 1,000 steps use documents 0..999, so they are unchanged, and a
longer run never trains on a held-out name.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write_text
from .errors import OmakaseError


@dataclass(frozen=True)
class Source:
    file: str
    url: str
    sha256: str
    shipped: bool = False  # a copy lives in omakase/records/
    layout: str = "lines"  # "lines": one document per line; "stream": one continuous text, cut into blocks


KNOWN = {
    "names": Source(
        "names.txt",
        "https://raw.githubusercontent.com/karpathy/makemore/988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt",
        "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
        shipped=True,
    ),
    "shakespeare": Source(
        "tinyshakespeare.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        layout="stream",
    ),
}
DEFAULT = "names"
SHIPPED = Path(__file__).parent / "records"
VAL_FRACTION = 0.1


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "omakase"


def known(name: str) -> Source | None:
    """The known data set called `name` ("names") or stored as `name` ("names.txt")."""
    return KNOWN.get(name) or next((s for s in KNOWN.values() if s.file == name), None)


def resolve(data: str | None = None, name: str = DEFAULT) -> Path:
    """The path of a dataset file: `data` (a path or a known name), else the known set `name`."""
    if data and known(data) is None:
        path = Path(data).expanduser()
        if path.is_dir():
            path = path / (known(name) or KNOWN[DEFAULT]).file
        if not path.is_file():
            raise OmakaseError(f"data file {path} does not exist; give the path of a text file "
                               f"or the name of a known data set ({', '.join(KNOWN)})")
        return path
    source = known(data or name)
    if source is None:
        raise OmakaseError(f"no known data set {name!r}; give the path of a text file or one of: {', '.join(KNOWN)}")
    env = os.environ.get("OMAKASE_DATA_DIR")
    if env and (Path(env).expanduser() / source.file).is_file():
        return Path(env).expanduser() / source.file
    if source.shipped:
        return _checked(SHIPPED / source.file, source)
    cached = cache_dir() / source.file
    if cached.is_file():
        return cached
    return download(source, cached)


def shipped(name: str = DEFAULT) -> Path:
    """The copy of a shipped data set inside the package (sha256-checked), whatever OMAKASE_DATA_DIR holds:
    for what must be the same on every machine (the assistant's spelling words)."""
    source = known(name)
    if source is None or not source.shipped:
        raise OmakaseError(f"{name!r} is not a data set shipped with omakase")
    return _checked(SHIPPED / source.file, source)


def _checked(path: Path, source: Source) -> Path:
    digest = sha256_of(path)
    if digest != source.sha256:
        raise OmakaseError(f"the shipped {path} has sha256 {digest[:12]}..., expected {source.sha256[:12]}...; "
                           f"reinstall omakase")
    return path


def download(source: Source, dest: Path) -> Path:
    try:
        with urllib.request.urlopen(source.url, timeout=30) as response:
            blob = response.read()
    except (urllib.error.URLError, OSError) as e:
        raise OmakaseError(
            f"could not download {source.file} ({getattr(e, 'reason', e)}); put a copy in {dest.parent} "
            f"or set OMAKASE_DATA_DIR to a folder holding it, or give the file's path as the data"
        ) from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != source.sha256:
        raise OmakaseError(f"downloaded {source.file} has sha256 {digest}, expected {source.sha256}; not saved")
    atomic_write_text(dest, blob.decode("utf-8"))
    return dest


def read_text(path: str | Path) -> str:
    """The whole file as text; clear errors for unreadable, non-UTF-8 or empty files."""
    text = "\n".join(read_docs(path, keep_lines=True))
    return text


def read_docs(path: str | Path, keep_lines: bool = False) -> list[str]:
    """One document per non-empty line, stripped; clear errors for non-UTF-8 or empty files.
    With keep_lines, every line as it is (a stream's text is "\n".join of them)."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as e:
        raise OmakaseError(f"cannot read {path} ({e.strerror}); check the path and its permissions") from None
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as e:
        line = blob[: e.start].count(b"\n") + 1
        raise OmakaseError(
            f"{path} is not UTF-8: byte 0x{blob[e.start]:02x} on line {line}; save the file as UTF-8"
        ) from None
    docs = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if keep_lines and docs:
        return text.split("\n")
    if not docs:
        raise OmakaseError(f"{path} holds no documents (every line is blank); give it one document per line")
    return docs


def layout_of(path: str | Path) -> str:
    """How a dataset file is read: a known data set's layout, else lines."""
    source = known(Path(path).name)
    return source.layout if source and sha256_of(path) == source.sha256 else "lines"


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def split(n_docs: int) -> int:
    """How many of the shuffled documents are for training; the rest (the last 10%) are held out."""
    return n_docs - int(n_docs * VAL_FRACTION)
