"""The search tool: the restaurant's documents cut into sentences, ranked by BM25 for a query.

The kitchen's recipe file: when the assistant writes <|search|>query<|/search|>,
tools.py runs this search and pastes the best sentences back as the result. A
fact is stated in one sentence, so the sentences are the units searched; BM25
(Okapi, through bm25s) scores each by the query words it shares, weighted by how
rare each word is.
"""

from __future__ import annotations

import re
from typing import Callable

from ...errors import OmakaseError

SEARCH_K = 4  # sentences a search returns: a dish's name is in many sentences, the one with the asked fact
# is often not the first (its words are "comes from", the question's "origin"); 4 fit in the block
SEARCH_CHARS = 240  # a search result: a few sentences, not whole documents
LIBRARY = "library.json"  # in an assistant build's folder: the documents its search tool reads
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
# Prepositions are not stopwords here: they say which fact is asked ("which town is it FROM" meets "comes from",
# "what is IN it" meets "has leek and basil in it"). Keeping them, and cutting -ed and -ing too, put the answer in
# the result of 283 of the 339 held-out fact questions instead of 251 (the 4816f23 cpu build's library)
STOPWORDS = frozenset(
    "a an and are as be has have how i if is it its or that the their then there these this to was what when "
    "where which while".split()
)
SUFFIXES = ("ing", "ed", "s")  # cut from a word's end, the first that fits


def words(text: str) -> list[str]:
    """The words BM25 matches on: lowercased, stopwords dropped, endings cut ("Where do the eel skewers
    come from?" -> do, eel, skewer, come, from, which "The eel skewers comes from Saltmarsh" matches on four)."""
    return [_stem(w) for w in (m.lower() for m in WORD.findall(text)) if w not in STOPWORDS]


def _stem(word: str) -> str:
    """The plural, the third person's s, -ed and -ing, cut: the question's "come" and "first cooked" meet the
    documents' "comes" and "how they cook" (a three-rule stemmer: the library's words differ mostly there; a
    stem need not be a word, "goes" -> "goe", as long as both sides cut alike)."""
    for suffix in SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            return word[:-len(suffix)]
    return word


def sentences(documents: list[str]) -> list[str]:
    """The documents' sentences, each once, in order: a fact is stated in one sentence."""
    seen: dict[str, None] = {}
    for doc in documents:
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", doc):
            sentence = sentence.strip()
            if len(words(sentence)) >= 2:
                seen.setdefault(sentence, None)
    return list(seen)


def search_tool(documents: list[str], k: int = SEARCH_K, max_chars: int = SEARCH_CHARS) -> Callable[[str], str]:
    """query -> the best k matching sentences of the documents, at most max_chars."""
    if k < 1:
        raise OmakaseError(f"k must be at least 1, got {k}")
    pieces = sentences(documents)
    if not pieces:
        raise OmakaseError("there is nothing to search: the documents hold no sentences")
    scores = bm25(pieces)

    def search(query: str) -> str:
        s = scores(query)
        top, said = [], set()
        for i in sorted(range(len(pieces)), key=lambda i: -s[i]):
            if s[i] <= 0 or len(top) == k:
                break
            if (same := frozenset(words(pieces[i]))) not in said:  # "eel bowl: $14" after "eel bowl - $14" adds nothing
                said.add(same)
                top.append(pieces[i])
        if not top:
            return f"no results for {query!r}"
        return _cut(" ".join(top), max_chars)

    return search


def bm25(pieces: list[str]) -> Callable[[str], list[float]]:
    """query -> one BM25 score per piece (0 where they share no word)."""
    try:
        import bm25s
    except ImportError:
        raise OmakaseError('the search tool needs bm25s, which is not installed; from the checkout: '
                           'pip install -e ".[assistant]"') from None
    retriever = bm25s.BM25()
    retriever.index([words(p) for p in pieces], show_progress=False)

    def scores(query: str) -> list[float]:
        tokens = words(query)
        if not tokens:  # only stopwords or punctuation: nothing to match (bm25s fails on an empty list)
            return [0.0] * len(pieces)
        return [float(s) for s in retriever.get_scores(tokens)]

    return scores


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1].rsplit(" ", 1)[0] + "…"
