"""Which files to leave out of an index: .gitignore-style patterns, the simple cases.

A pattern is one line:

- blank lines and lines starting with `#` are skipped (`\\#` and `\\!` start a literal `#` or `!`);
- `*`, `?` and `[abc]` match within one name (never across `/`), `**` matches any number of folders;
- a trailing `/` matches folders only (and so everything in them);
- a `/` at the start or in the middle anchors the pattern at the indexed folder; without one it
  matches a file or folder name at any depth;
- a leading `!` re-includes what an earlier pattern left out (the last matching pattern wins),
  except inside a folder that is left out, as in git.

Not supported: `.gitignore` files in subfolders, the global excludes file and `.git/info/exclude`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from ..errors import OmakaseError

SUPPORTED = ("* ? [abc] within a name, ** across folders, a trailing / for folders only, "
             "a leading / to anchor at the indexed folder, ! to re-include, # comments")


@dataclass(frozen=True)
class Pattern:
    text: str  # the line as written, for messages
    parts: tuple[str, ...]  # split at "/"
    anchored: bool
    dir_only: bool
    negated: bool


def parse(line: str) -> Pattern | None:
    """One pattern line, or None for a blank line or a comment."""
    body = line.rstrip()  # git ignores trailing spaces too
    if not body or body.startswith("#"):
        return None
    negated = body.startswith("!")
    if negated:
        body = body[1:]
    elif body.startswith(("\\#", "\\!")):
        body = body[1:]
    dir_only = body.endswith("/")
    body = body.rstrip("/")
    anchored = "/" in body  # at the start or in the middle: relative to the indexed folder
    parts = tuple(p for p in body.split("/") if p)
    if not parts:
        return None
    return Pattern(line.rstrip(), parts, anchored, dir_only, negated)


def parse_exclude(glob: str) -> Pattern:
    """A pattern given by the user directly: unlike a .gitignore line, an empty one is a mistake."""
    pattern = parse(glob)
    if pattern is None:
        raise OmakaseError(f"exclude pattern {glob!r} matches nothing; give a glob such as '*.min.js' or 'vendor/'")
    return pattern


def read_gitignore(root: Path) -> list[Pattern]:
    """The patterns of root/.gitignore, or none when there is no such file."""
    path = Path(root) / ".gitignore"
    if not path.is_file():
        return []
    # errors="replace": a stray byte in one line must not cost the other lines
    lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    return [p for p in map(parse, lines) if p is not None]


def _match_parts(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match_parts(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _match_parts(pattern[1:], parts[1:])


def matches(pattern: Pattern, parts: tuple[str, ...], is_dir: bool) -> bool:
    """Does the pattern name this path (its parts relative to the indexed folder)?"""
    if pattern.dir_only and not is_dir:
        return False
    if pattern.anchored:
        return _match_parts(pattern.parts, parts)
    return fnmatchcase(parts[-1], pattern.parts[0])  # no slash: the name, at any depth


def ignored(patterns: list[Pattern], parts: tuple[str, ...], is_dir: bool) -> bool:
    """The last pattern that matches decides; the caller does not descend into ignored folders."""
    verdict = False
    for p in patterns:
        if matches(p, parts, is_dir):
            verdict = not p.negated
    return verdict
