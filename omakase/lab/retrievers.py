"""Four ways to rank a corpus for a query, each giving a full score matrix (queries x documents).

- random: a seeded shuffle, the floor every method must clear.
- bm25:   lexical matching (bm25s) over code-aware tokens (camelCase and snake_case split).
- dense:  cosine similarity of embeddings (MiniLM by default).
- hybrid: reciprocal rank fusion of bm25 and dense, score = sum over both of 1 / (60 + rank),
          where BM25 contributes only the documents it matched (score > 0).

At lab scale (hundreds of documents) a full matrix is cheap and exact. `omakase lab search`
asks a stored index many times instead: BM25Index once per process, and rrf_ranked over the
top of each method's ranked list (search.py).
"""

from __future__ import annotations

import numpy as np

from ..errors import OmakaseError
from . import extra
from .code_tokens import code_tokens
from .embedders import Embedder

METHODS = ("random", "bm25", "dense", "hybrid")
RRF_K = 60  # the constant from Cormack et al. (2009); it damps the weight of the very top ranks


def rank(scores: np.ndarray) -> np.ndarray:
    """Document indices best-first per row; ties keep corpus order, so results are reproducible."""
    return np.argsort(-scores, axis=1, kind="stable")


def random_scores(n_queries: int, n_docs: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n_queries, n_docs))


class BM25Index:
    """A bm25s index over documents' code tokens, built once and asked many times."""

    def __init__(self, docs: list[str]):
        bm25s = extra("bm25s")

        self.n_docs = len(docs)
        self.retriever = bm25s.BM25()
        # bm25s needs every document to have at least one token; an empty one gets a placeholder.
        self.retriever.index([code_tokens(d) or ["<empty>"] for d in docs], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One score per document; 0 where the query shares no token with it."""
        tokens = code_tokens(query)
        if not tokens:  # only stopwords or punctuation: nothing to match (bm25s fails on an empty list)
            return np.zeros(self.n_docs, np.float64)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float64)


def bm25_scores(docs: list[str], queries: list[str]) -> np.ndarray:
    index = BM25Index(docs)
    return np.stack([index.scores(q) for q in queries])


def dense_scores(doc_vectors: np.ndarray, query_vectors: np.ndarray) -> np.ndarray:
    d = doc_vectors / np.linalg.norm(doc_vectors, axis=1, keepdims=True)
    q = query_vectors / np.linalg.norm(query_vectors, axis=1, keepdims=True)
    return (q @ d.T).astype(np.float64)


def rrf(*runs: tuple[np.ndarray, np.ndarray | None], k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of (scores, retrieved) pairs.

    `retrieved` marks the documents a method actually returned (None: all of them).
    BM25 returns only documents sharing a term with the query; giving the rest a
    rank would fuse their arbitrary tie order into the result.
    """
    fused = np.zeros_like(runs[0][0], dtype=np.float64)
    for scores, retrieved in runs:
        order = rank(scores)
        ranks = np.empty_like(order)
        rows = np.arange(order.shape[0])[:, None]
        ranks[rows, order] = np.arange(1, order.shape[1] + 1)[None, :]
        contribution = 1.0 / (k + ranks)
        if retrieved is not None:
            contribution = np.where(retrieved, contribution, 0.0)
        fused += contribution
    return fused


def rrf_ranked(*ranked: list[str], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of ranked lists of ids, best first: each list adds 1 / (k + rank)
    to the ids it returned, as `rrf` does for whole score matrices. Ties keep first-seen order."""
    fused: dict[str, float] = {}
    for ids in ranked:
        for r, i in enumerate(ids, 1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + r)
    return sorted(fused.items(), key=lambda item: -item[1])


class Scorer:
    """Scores for all methods, computing BM25 and embeddings once and sharing them."""

    def __init__(self, docs: list[str], queries: list[str], embedder_factory, seed: int = 0):
        self.docs, self.queries, self.seed = docs, queries, seed
        self.embedder_factory = embedder_factory
        self._cache: dict[str, np.ndarray] = {}
        self.unseen_docs = 0  # documents the embedder could not read whole
        self.embedder: Embedder | None = None

    def scores(self, method: str) -> np.ndarray:
        if method not in METHODS:
            raise OmakaseError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        if method not in self._cache:
            if method == "random":
                s = random_scores(len(self.queries), len(self.docs), self.seed)
            elif method == "bm25":
                s = bm25_scores(self.docs, self.queries)
            elif method == "dense":
                self.embedder = self.embedder_factory()
                doc_emb = self.embedder.embed(self.docs)
                self.unseen_docs = doc_emb.n_affected
                s = dense_scores(doc_emb.vectors, self.embedder.embed(self.queries).vectors)
            else:
                bm25 = self.scores("bm25")
                s = rrf((bm25, bm25 > 0), (self.scores("dense"), None))
            self._cache[method] = s
        return self._cache[method]
