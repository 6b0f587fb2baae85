"""Spelling lists: pretraining documents that spell words letter by letter.

A model reads word-pieces, never letters: " jisselle" reaches it as a few ids, and which
letters hide inside each id it can only learn from text that spells words out. The
kitchen's internet almost never does, so a model that was asked to count letters
spelled the kitchen's words instead of the one asked ("strawberry" -> "s a l e d").
These documents are that text, a spelling bee's word list:

    Spelling list.
    The word harris is spelled h a r r i s.
    The word tory is spelled t o r y.
    ...

The word comes after a space, as in a question ("How many r's are in harris?"), so it is
cut into the same pieces a question cuts it into. Only training-side words are listed
(thinking.py's split by word): a held-out word is never spelled anywhere, so counting its
letters needs its pieces' spellings, learned from other words.
"""

from __future__ import annotations

import random

from ...errors import OmakaseError
from .documents import Document

WORDS_PER_LIST = 15


def spelling_lists(words: list[str], n: int, seed: int = 0, per_list: int = WORDS_PER_LIST) -> list[Document]:
    """n lists of `per_list` words each, drawn from `words` without repeats until every word is listed once."""
    if n < 0 or per_list < 1:
        raise OmakaseError(f"spelling lists need n >= 0 (got {n}) and per_list >= 1 (got {per_list})")
    if n and not words:
        raise OmakaseError("spelling lists need words to spell")
    r = random.Random(f"spelling|{seed}")
    pool: list[str] = []
    out = []
    for i in range(n):
        listed = []
        for _ in range(per_list):
            if not pool:
                pool = sorted(words)
                r.shuffle(pool)
            listed.append(pool.pop())
        lines = "\n".join(f"The word {w} is spelled {' '.join(w)}." for w in listed)
        out.append(Document(f"spelling-{i:05d}", "spelling", f"Spelling list.\n{lines}", ()))
    return out
