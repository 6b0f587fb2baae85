"""The master's records: where a dataset comes from, and how it is split.

Lookup order for a dataset file (names.txt by default):
  1. --data PATH (a file, or a folder holding the file),
  2. $OMAKASE_DATA_DIR/<file>,
  3. the user cache ($XDG_CACHE_HOME or ~/.cache)/omakase/<file>,
  4. a download from the pinned canonical URL, checked against its sha256, then cached.

Any UTF-8 text file is a dataset: one document per line, lines stripped,
blank lines skipped (as in the reference).

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

from .checkpoint import atomic_write_text
from .errors import OmakaseError


@dataclass(frozen=True)
class Source:
    url: str
    sha256: str


KNOWN = {
    "names.txt": Source(
        "https://raw.githubusercontent.com/karpathy/makemore/988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt",
        "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    ),
    "tinyshakespeare.txt": Source(
        "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
}
DEFAULT = "names.txt"
VAL_FRACTION = 0.1


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "omakase"


def resolve(data: str | None = None, name: str = DEFAULT) -> Path:
    """The path of the dataset file, downloading it if it is nowhere on this machine."""
    if data:
        path = Path(data).expanduser()
        if path.is_dir():
            path = path / name
        if not path.is_file():
            raise OmakaseError(f"data file {path} does not exist; pass --data with the path of a text file")
        return path
    env = os.environ.get("OMAKASE_DATA_DIR")
    if env:
        path = Path(env).expanduser() / name
        if not path.is_file():
            raise OmakaseError(f"OMAKASE_DATA_DIR is {env} but {path} does not exist; fix the variable or unset it")
        return path
    cached = cache_dir() / name
    if cached.is_file():
        return cached
    return download(name, cached)


def download(name: str, dest: Path) -> Path:
    source = KNOWN.get(name)
    if source is None:
        raise OmakaseError(f"no known download for {name}; pass --data with the path of a text file")
    try:
        with urllib.request.urlopen(source.url, timeout=30) as response:
            blob = response.read()
    except (urllib.error.URLError, OSError) as e:
        raise OmakaseError(
            f"could not download {name} ({getattr(e, 'reason', e)}); put a copy in {dest.parent} "
            f"or set OMAKASE_DATA_DIR to a folder holding it, or pass --data PATH"
        ) from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != source.sha256:
        raise OmakaseError(f"downloaded {name} has sha256 {digest}, expected {source.sha256}; not saved")
    atomic_write_text(dest, blob.decode("utf-8"))
    return dest


def read_docs(path: str | Path) -> list[str]:
    """One document per non-empty line, stripped; clear errors for non-UTF-8 or empty files."""
    path = Path(path)
    blob = path.read_bytes()
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as e:
        line = blob[: e.start].count(b"\n") + 1
        raise OmakaseError(
            f"{path} is not UTF-8: byte 0x{blob[e.start]:02x} on line {line}; save the file as UTF-8"
        ) from None
    docs = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if not docs:
        raise OmakaseError(f"{path} holds no documents (every line is blank); give it one document per line")
    return docs


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def split(n_docs: int) -> int:
    """How many of the shuffled documents are for training; the rest (the last 10%) are held out."""
    return n_docs - int(n_docs * VAL_FRACTION)
