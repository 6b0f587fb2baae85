"""Code-aware tokens for BM25: identifiers are kept whole *and* split at camelCase and snake_case.

    "sumPrices(items)"  -> ["sumprices", "sum", "prices", "items"]
    "count_in_stock"    -> ["count_in_stock", "count", "in", "stock"]  ("in" is then dropped as a stopword)

so a query that says "sum prices" matches code that says sumPrices.
"""

from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
STOPWORDS = frozenset(
    "a an and are as at be by for from has have how i if in into is it its of on or that the their then "
    "there these this to was what when where which while with".split()
)


def split_identifier(name: str) -> list[str]:
    parts = []
    for piece in name.split("_"):
        parts.extend(CAMEL.findall(piece))
    return [p.lower() for p in parts]


@lru_cache(maxsize=1 << 17)
def word_tokens(word: str) -> tuple[str, ...]:
    """One word's tokens: itself, then its parts if it has several; stopwords dropped."""
    whole = word.lower().strip("_")
    parts = split_identifier(word)
    out = ([whole] if whole else []) + (parts if len(parts) > 1 else [])
    return tuple(t for t in out if t not in STOPWORDS)


def code_tokens(text: str) -> list[str]:
    # Code repeats its identifiers, so each distinct word is split once: 10,000 chunks of the
    # standard library hold 1.3 million words but few distinct ones (5.7 s uncached).
    out: list[str] = []
    for word in WORD.findall(text):
        out.extend(word_tokens(word))
    return out
