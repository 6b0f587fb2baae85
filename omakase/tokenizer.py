"""Courses and numbers: a character-level tokenizer with one special token.

The dataset's characters, sorted, get ids 0..n-1, and the service bell BOS = n
marks both where a menu starts and where it ends. On names.txt: a = 0 ... z = 25,
BOS = 26, and "emma" -> [26, 4, 12, 12, 0, 26].
"""

from __future__ import annotations

from .errors import OmakaseError


class Tokenizer:
    def __init__(self, chars: str):
        if len(set(chars)) != len(chars) or list(chars) != sorted(chars):
            raise OmakaseError("a vocabulary must be sorted characters without repeats")
        self.chars = chars
        self.bos = len(chars)
        self.vocab_size = len(chars) + 1
        self._ids = {ch: i for i, ch in enumerate(chars)}

    @classmethod
    def from_docs(cls, docs: list[str]) -> "Tokenizer":
        return cls("".join(sorted(set("".join(docs)))))

    def encode(self, doc: str, where: str = "") -> list[int]:
        """[BOS] + one id per character + [BOS]. `where` names the doc's place in an error."""
        return [self.bos] + self.ids(doc, where) + [self.bos]

    def ids(self, text: str, where: str = "") -> list[int]:
        try:
            return [self._ids[ch] for ch in text]
        except KeyError:
            for col, ch in enumerate(text, start=1):
                if ch not in self._ids:
                    place = f" ({where})" if where else ""
                    raise OmakaseError(
                        f"character {ch!r} (U+{ord(ch):04X}) at position {col} of {text!r}{place} "
                        f"is not in the vocabulary ({self.describe()})"
                    ) from None
            raise

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids if i != self.bos)

    def label(self, token: int) -> str:
        """A printable name for one token: the character, or the bell."""
        return "<bell>" if token == self.bos else self.chars[token]

    def describe(self) -> str:
        shown = self.chars if len(self.chars) <= 40 else self.chars[:37] + "..."
        return f"{len(self.chars)} characters {shown!r} + the bell"
