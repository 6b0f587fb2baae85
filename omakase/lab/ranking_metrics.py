"""Retrieval metrics for one query, written out (tests check them against ranx).

`ranking` is the list of document ids in the order the system returned them;
`rel` maps document id -> graded relevance (score > 0 is relevant). nDCG uses
linear gain, as trec_eval and ranx do: DCG@k = sum over ranks i of rel_i / log2(i + 1).
"""

from __future__ import annotations

import math


def dcg(gains: list[int]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at(ranking: list[str], rel: dict[str, int], k: int) -> float:
    ideal = dcg(sorted((g for g in rel.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([max(rel.get(d, 0), 0) for d in ranking[:k]]) / ideal


def mrr_at(ranking: list[str], rel: dict[str, int], k: int) -> float:
    for i, d in enumerate(ranking[:k]):
        if rel.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def n_relevant(rel: dict[str, int]) -> int:
    return sum(1 for g in rel.values() if g > 0)


def recall_at(ranking: list[str], rel: dict[str, int], k: int) -> float:
    total = n_relevant(rel)
    return sum(1 for d in ranking[:k] if rel.get(d, 0) > 0) / total if total else 0.0


def precision_at(ranking: list[str], rel: dict[str, int], k: int) -> float:
    return sum(1 for d in ranking[:k] if rel.get(d, 0) > 0) / k


def precision_ceiling(rel: dict[str, int], k: int) -> float:
    """The best precision@k any system could reach: a query with 1 relevant item caps P@10 at 0.1."""
    return min(n_relevant(rel), k) / k


# The metrics `lab eval` reports, by name, each a function of (ranking, rel).
METRICS = {
    "nDCG@10": lambda r, rel: ndcg_at(r, rel, 10),
    "MRR@10": lambda r, rel: mrr_at(r, rel, 10),
    "R@1": lambda r, rel: recall_at(r, rel, 1),
    "R@3": lambda r, rel: recall_at(r, rel, 3),
    "R@5": lambda r, rel: recall_at(r, rel, 5),
    "R@10": lambda r, rel: recall_at(r, rel, 10),
    "P@3": lambda r, rel: precision_at(r, rel, 3),
    "P@10": lambda r, rel: precision_at(r, rel, 10),
}
CEILINGS = {"P@3": lambda rel: precision_ceiling(rel, 3), "P@10": lambda rel: precision_ceiling(rel, 10)}
