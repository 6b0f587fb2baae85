"""What an embedder actually reads of a chunk, and the share of a folder's lines that it reads.

An embedder reads a window of tokens (MiniLM: 256 word pieces, [CLS] and [SEP] included) and
drops the rest without a word. A chunk whose text runs past the window is embedded from its
beginning only, so the lines after the cut are in the index but no vector knows them.

A `Reader` says how an embedder counts and how far it reads. Counts are taken line by line and
added up: MiniLM's tokenizer splits text at whitespace before it cuts words into pieces, so the
pieces of "a\\nb" are the pieces of "a" followed by those of "b" (tests/lab check this on real
code with the real tokenizer). A line counts as seen only if all of its tokens are read; a line
cut in the middle is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Reader:
    count: Callable[[str], int]  # tokens in a text, without the ones the model adds to every input
    window: int | None  # tokens read per input, those added ones included; None: everything is read
    special: int = 0  # tokens the model adds to every input ([CLS] and [SEP] for MiniLM)

    @property
    def budget(self) -> int | None:
        """Tokens of our own text that fit the window."""
        return None if self.window is None else self.window - self.special


@dataclass
class Coverage:
    seen: int = 0  # non-blank lines the embedder reads whole in at least one chunk
    total: int = 0  # non-blank lines in the files

    @property
    def share(self) -> float:
        return self.seen / self.total if self.total else 1.0

    def __add__(self, other: "Coverage") -> "Coverage":
        return Coverage(self.seen + other.seen, self.total + other.total)


def lines_read(chunk, lines: list[str], reader: Reader) -> list[int]:
    """Line numbers of the chunk's non-blank lines that the embedder reads whole (header first)."""
    numbers = [n for n in range(chunk.start, chunk.end + 1) if lines[n - 1].strip()]
    if reader.budget is None:
        return numbers
    used = reader.count(chunk.header) if chunk.header else 0
    out = []
    for n in numbers:
        used += reader.count(lines[n - 1])
        if used > reader.budget:
            break
        out.append(n)
    return out


def file_coverage(chunks, lines: list[str], reader: Reader) -> Coverage:
    """One file: its chunks (any strategy) against its lines, as chunk_source cut them."""
    seen = {n for c in chunks for n in lines_read(c, lines, reader)}
    return Coverage(len(seen), sum(1 for line in lines if line.strip()))
