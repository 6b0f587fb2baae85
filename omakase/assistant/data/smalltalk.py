"""Small talk for the chat stage: the English conversations of chatterbot-corpus.

chatterbot-corpus (https://github.com/gunthercox/chatterbot-corpus, by Gunther Cox;
BSD licence: its package metadata's classifier is "License :: OSI Approved :: BSD
License" and its pyproject.toml names BSD-3-Clause) ships community-written YAML
files, one per category (greetings, food, humor, ...):

    categories:
    - greetings
    conversations:
    - - Hello
      - Hi

Each conversation is a list of lines said in turn; a line and the one after it make
a (user, reply) pair, so a conversation of n lines gives n - 1 pairs. Read with
PyYAML's safe loader (never the full one: a YAML file can name Python objects to build).
Optional: `available()` says whether both packages are installed.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import OmakaseError

INSTALL = 'small talk needs chatterbot-corpus and pyyaml; from the checkout: pip install -e ".[assistant]"'


def available() -> bool:
    """Whether chatterbot-corpus and PyYAML are both installed."""
    try:
        import chatterbot_corpus  # noqa: F401
        import yaml  # noqa: F401
    except ImportError:
        return False
    return True


def english_files() -> list[Path]:
    """The corpus's English YAML files, sorted by name (so the order never depends on the disk)."""
    try:
        import chatterbot_corpus  # noqa: F401
    except ImportError:
        raise OmakaseError(INSTALL) from None
    folder = Path(chatterbot_corpus.__file__).parent / "data" / "english"
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise OmakaseError(f"chatterbot-corpus has no English YAML files in {folder}; reinstall chatterbot-corpus")
    return files


def conversations(path: Path) -> tuple[str, list[list]]:
    """The category (the file's first, else its name) and the conversations of one YAML file."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        raise OmakaseError(INSTALL) from None
    try:
        # libyaml's safe loader when PyYAML was built with it: the same result, 13x faster here
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise OmakaseError(f"cannot read {path} ({type(e).__name__}); reinstall chatterbot-corpus") from None
    if not isinstance(data, dict):
        return path.stem, []
    names = data.get("categories") or [path.stem]
    found = data.get("conversations") or []
    return str(names[0]), [c for c in found if isinstance(c, list)]  # a bare string is not a conversation


def pairs_by_category() -> dict[str, list[tuple[str, str]]]:
    """{category: (user, reply) pairs}, files in name order, pairs in file order.
    Consecutive lines make a pair; a pair with a line that is not a plain string
    (a number, a nested list) or is blank is skipped."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in english_files():
        category, talks = conversations(path)
        bucket = found.setdefault(category, [])
        for talk in talks:
            for said, reply in zip(talk, talk[1:]):
                if isinstance(said, str) and isinstance(reply, str) and said.strip() and reply.strip():
                    bucket.append((said.strip(), reply.strip()))
    return found


def pairs() -> list[tuple[str, str]]:
    """Every English (user, reply) pair of chatterbot-corpus, in a fixed order."""
    return [pair for found in pairs_by_category().values() for pair in found]
