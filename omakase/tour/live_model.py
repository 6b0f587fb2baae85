"""What every chapter of the tour reads: the trained run, the records, the example menus, the article's claims.

Everything the chapters measure is measured on the Ming at hand or computed
from first principles (like -ln 0.1); the article's own numbers live in ARTICLE
and are always shown labelled as the article's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import data
from .. import train as training
from ..checkpoint import Checkpoint
from ..config import GPTConfig
from ..engines import make_engine
from ..sample import course_probabilities
from .ming import Ming

# What the article claims, to print beside ours.
ARTICLE = {
    "blind": 3.3,
    "growth": {1: "3.3", 100: "~2.8", 500: "~2.5", 1000: "2.37"},  # as the article writes them, "~" included
    "vote": [("a", 0.70), ("e", 0.15), ("i", 0.08)],
    "names": ["karia", "yeran", "liole"],
}


@dataclass
class Kitchen:
    """What every chapter reads: the trained run, the records, and the example menus."""

    ming: Ming
    run: training.Run
    records: set
    example: str  # "emma", or a stand-in from the data
    second: str  # "sophia", or a stand-in

    @property
    def tokenizer(self):
        return self.run.tokenizer

    @property
    def config(self) -> GPTConfig:
        return self.run.config

    @property
    def on_names(self) -> bool:
        """Is this Ming trained on names.txt? The article's numbers (its vote, curve and names) are about it."""
        return self.ming.data_info.get("sha256") == data.KNOWN["names"].sha256

    def batched(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray | None, list | None]:
        """Every text served at once by the fast engine's forward pass (no cache: each row starts at the bell):
        the token lists, the logits (rows, positions, vocabulary) and what the pass computed on the way.
        (None, None) in place of the last two on an engine with no batched pass (the scalar one)."""
        tokens = [self.tokenizer.encode(text)[: self.config.block_size + 1] for text in texts]
        if not hasattr(self.run.engine, "forward") or not tokens:
            return tokens, None, None
        inputs = np.zeros((len(tokens), max(len(t) for t in tokens) - 1), dtype=np.intp)  # padding: any token
        for row, t in enumerate(tokens):
            inputs[row, : len(t) - 1] = t[:-1]
        logits, saved = self.run.engine.forward(inputs)
        return tokens, logits, saved

    def course_probabilities(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        """sample.course_probabilities of each text: for each course of [text, bell], the probability Ming gave
        it after the courses before it. One batched pass on the fast engine, course by course on the scalar."""
        tokens, logits, _ = self.batched(texts)
        if logits is None:
            return [course_probabilities(self.run.engine, self.tokenizer, text) for text in texts]
        exps = np.exp(logits - logits.max(-1, keepdims=True))
        probs = exps / exps.sum(-1, keepdims=True)
        return [[(self.tokenizer.label(t[i + 1]), float(probs[row, i, t[i + 1]])) for i in range(len(t) - 1)]
                for row, t in enumerate(tokens)]

    def scalar(self, ckpt: Checkpoint | None = None):
        """A fresh scalar kitchen (fresh, so no influence numbers are left over from an earlier trace)."""
        return make_engine("scalar", ckpt or self.ming.final)


def open_kitchen(ming: Ming) -> Kitchen:
    run = ming.run()
    records = set(ming.docs)
    fits = [d for d in ming.docs if len(d) < run.config.block_size]  # whole menus, bells included, fit the block
    telling = [d for d in fits if len(d) >= 2 and d != d[::-1]]  # reversed, they make another menu
    example = "emma" if "emma" in telling else (telling or fits or [ming.docs[0][: run.config.block_size - 1]])[0]
    others = [d for d in fits if len(d) != len(example)]
    second = "sophia" if "sophia" in fits else (others or [example])[0]
    return Kitchen(ming, run, records, example, second)
