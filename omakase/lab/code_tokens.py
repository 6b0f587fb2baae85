"""Code-aware tokens for BM25: identifiers are kept whole *and* split at camelCase and snake_case.

    "sumPrices(items)"  -> ["sumprices", "sum", "prices", "items"]
    "count_in_stock"    -> ["count_in_stock", "count", "in", "stock"]  ("in" is then dropped as a stopword)

so a query that says "sum prices" matches code that says sumPrices.
"""

from __future__ import annotations

import re

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


def code_tokens(text: str) -> list[str]:
    out = []
    for word in WORD.findall(text):
        whole = word.lower().strip("_")
        parts = split_identifier(word)
        if whole:
            out.append(whole)
        if len(parts) > 1:
            out.extend(parts)
    return [t for t in out if t not in STOPWORDS]
