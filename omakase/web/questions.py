"""The tour's predict-then-reveal questions, asked of a checkpoint the page has open.

The questions and their answers are the tour's own (each chapter module's `question`
in tour/chapters/, worded by the tour's catalogue): each chapter's data is measured on
the chosen Ming by that chapter's `measure`, so the page and `omakase tour --checkpoint`
ask and answer alike. The route gives the question first and the answer only with a guess.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from ..tour import chapters, ming
from ..tour.story import Catalogue

CHAPTERS = tuple(range(1, len(chapters.CHAPTERS) + 1))
KEEP = 64  # measured chapters held (a chapter takes up to a few seconds to measure)
_cache: OrderedDict[tuple, dict] = OrderedDict()
_lock = threading.Lock()


def _measured(path: Path, chapter: int) -> dict:
    key = (str(path), path.stat().st_mtime_ns, chapter)
    with _lock:
        if key in _cache:
            return _cache[key]
    kitchen = chapters.open_kitchen(ming.prepare(None, str(path), "numpy"))
    data = chapters.measure(kitchen, [chapter])[chapter]
    with _lock:
        _cache[key] = data
        while len(_cache) > KEEP:
            _cache.popitem(last=False)
    return data


def ask(path: Path, chapter: int, lang: str) -> dict:
    question, _ = chapters.CHAPTERS[chapter - 1].question(_measured(path, chapter), Catalogue(lang))
    return {"chapter": chapter, "question": question}


def reveal(path: Path, chapter: int, lang: str, guess: str) -> dict:
    question, answer = chapters.CHAPTERS[chapter - 1].question(_measured(path, chapter), Catalogue(lang))
    return {"chapter": chapter, "question": question, "guess": guess, "answer": answer}
