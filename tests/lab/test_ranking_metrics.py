"""Our from-scratch metrics against trec_eval (pytrec-eval-terrier); ranx too under -m slow."""

import random

import pytest

from omakase.lab import ranking_metrics as m


def random_case(seed, n_queries=25, n_docs=40):
    rng = random.Random(seed)
    docs = [f"d{i}" for i in range(n_docs)]
    qrels, runs = {}, {}
    for q in range(n_queries):
        qid = f"q{q}"
        qrels[qid] = {d: rng.choice([0, 1, 2]) for d in rng.sample(docs, rng.randint(1, 6))}
        if not any(g > 0 for g in qrels[qid].values()):
            qrels[qid][docs[0]] = 1
        ranking = rng.sample(docs, n_docs)
        runs[qid] = ranking
    return qrels, runs


def as_scores(ranking, k=10):
    """A run in the reference libraries' shape: distinct scores, best first, top k only."""
    return {d: float(len(ranking) - i) for i, d in enumerate(ranking[:k])}


def test_metrics_match_trec_eval():
    pytrec_eval = pytest.importorskip("pytrec_eval")
    for seed in range(3):
        qrels, runs = random_case(seed)
        evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recip_rank", "recall.1,3,5,10", "P.3,10"})
        ref = evaluator.evaluate({q: as_scores(r) for q, r in runs.items()})
        for q, ranking in runs.items():
            rel = qrels[q]
            assert m.ndcg_at(ranking, rel, 10) == pytest.approx(ref[q]["ndcg_cut_10"], abs=1e-9)
            assert m.mrr_at(ranking, rel, 10) == pytest.approx(ref[q]["recip_rank"], abs=1e-9)
            for k in (1, 3, 5, 10):
                assert m.recall_at(ranking, rel, k) == pytest.approx(ref[q][f"recall_{k}"], abs=1e-9)
            for k in (3, 10):
                assert m.precision_at(ranking, rel, k) == pytest.approx(ref[q][f"P_{k}"], abs=1e-9)


@pytest.mark.slow
def test_metrics_match_ranx():
    ranx = pytest.importorskip("ranx")
    qrels, runs = random_case(7)
    ref = ranx.evaluate(
        ranx.Qrels(qrels),
        ranx.Run({q: as_scores(r) for q, r in runs.items()}),
        ["ndcg@10", "mrr@10", "recall@5", "precision@3"],
        return_mean=False,
    )
    for i, q in enumerate(sorted(runs)):  # ranx returns per-query scores in sorted query-id order
        ranking = runs[q]
        assert m.ndcg_at(ranking, qrels[q], 10) == pytest.approx(ref["ndcg@10"][i], abs=1e-9)
        assert m.mrr_at(ranking, qrels[q], 10) == pytest.approx(ref["mrr@10"][i], abs=1e-9)
        assert m.recall_at(ranking, qrels[q], 5) == pytest.approx(ref["recall@5"][i], abs=1e-9)
        assert m.precision_at(ranking, qrels[q], 3) == pytest.approx(ref["precision@3"][i], abs=1e-9)


def test_hand_computed_example():
    rel = {"a": 2, "b": 1, "z": 0}
    ranking = ["x", "a", "z", "b"]
    # DCG = 2/log2(3) + 1/log2(5); ideal = 2/log2(2) + 1/log2(3)
    import math

    expected = (2 / math.log2(3) + 1 / math.log2(5)) / (2 + 1 / math.log2(3))
    assert m.ndcg_at(ranking, rel, 10) == pytest.approx(expected)
    assert m.mrr_at(ranking, rel, 10) == 0.5
    assert m.recall_at(ranking, rel, 1) == 0.0 and m.recall_at(ranking, rel, 3) == 0.5
    assert m.precision_at(ranking, rel, 3) == pytest.approx(1 / 3)
    # two relevant documents: nothing can score above 2/10 at k = 10
    assert m.precision_ceiling(rel, 10) == 0.2 and m.precision_ceiling(rel, 1) == 1.0
