"""Experiment 2: cosine similarity vs Euclidean distance.

On unit vectors (MiniLM's are normalized) |a - b|^2 = 2 - 2 cos(a, b), so both
measures rank neighbours identically. Without normalization, length enters the
distance: the counter-examples below show the rankings disagreeing.
"""

from __future__ import annotations

import numpy as np

from . import vectors as v
from .embedders import Embedder
from ..report_folder import PALETTE, Report, pyplot

WORDS = ["cat", "dog", "car", "tree", "happy", "sad", "run", "walk"]
# Hand-made 2-d counter-example: `long` points the query's way but is far away; `near` is close but turned.
TOY = {"query": [1.0, 0.0], "long": [3.0, 0.3], "near": [0.9, 0.5]}


def neighbours(query: list[float], others: dict[str, list[float]]) -> tuple[list[str], list[str]]:
    by_cos = sorted(others, key=lambda k: -v.cosine(query, others[k]))
    by_dist = sorted(others, key=lambda k: v.euclidean(query, others[k]))
    return by_cos, by_dist


def run(embedder: Embedder, report: Report, words: list[str] = WORDS) -> dict:
    emb = embedder.embed(words)
    vecs = {w: [float(x) for x in row] for w, row in zip(words, emb.vectors)}
    norms = {w: v.norm(vecs[w]) for w in words}
    unit = {w: v.unit(vecs[w]) for w in words}

    # 1. the from-scratch formulas agree with NumPy
    m = emb.vectors.astype(np.float64)
    mu = m / np.linalg.norm(m, axis=1, keepdims=True)
    np_cos = mu @ mu.T
    scratch_cos = np.array([[v.cosine(vecs[a], vecs[b]) for b in words] for a in words])
    scratch_dist = np.array([[v.euclidean(vecs[a], vecs[b]) for b in words] for a in words])
    np_dist = np.linalg.norm(m[:, None, :] - m[None, :, :], axis=2)

    # 2. the unit-vector identity, on normalized copies
    pairs = [(a, b) for i, a in enumerate(words) for b in words[i + 1 :]]
    sq = [v.euclidean(unit[a], unit[b]) ** 2 for a, b in pairs]
    two_minus = [2 - 2 * v.cosine(unit[a], unit[b]) for a, b in pairs]
    identity_gap = max(abs(x - y) for x, y in zip(sq, two_minus))
    query, rest = words[0], {w: unit[w] for w in words[1:]}
    unit_cos_rank, unit_dist_rank = neighbours(unit[query], rest)

    # 3a. counter-example on the model's own vectors: stretch one neighbour
    stretched_word = unit_cos_rank[0]
    stretched = dict(rest)
    stretched[stretched_word] = [3.0 * x for x in rest[stretched_word]]
    str_cos_rank, str_dist_rank = neighbours(unit[query], stretched)
    # 3b. the 2-d toy
    toy_cos_rank, toy_dist_rank = neighbours(TOY["query"], {k: TOY[k] for k in ("long", "near")})

    result = {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "norms": {w: round(n, 6) for w, n in norms.items()},
        "max_abs_diff_cosine_vs_numpy": float(np.abs(scratch_cos - np_cos).max()),
        "max_abs_diff_euclidean_vs_numpy": float(np.abs(scratch_dist - np_dist).max()),
        "unit_identity_max_gap": identity_gap,
        "query": query,
        "unit_rank_by_cosine": unit_cos_rank,
        "unit_rank_by_euclidean": unit_dist_rank,
        "stretched_word": stretched_word,
        "stretched_rank_by_cosine": str_cos_rank,
        "stretched_rank_by_euclidean": str_dist_rank,
        "toy": TOY,
        "toy_rank_by_cosine": toy_cos_rank,
        "toy_rank_by_euclidean": toy_dist_rank,
    }

    report.add(
        "# Experiment 2: cosine similarity vs Euclidean distance",
        "",
        f"Embedder **{embedder.name}** ({embedder.dim} dimensions). Both measures are written from scratch "
        "in plain Python (`omakase/lab/vectors.py`); the tests check them against NumPy and SciPy.",
        "",
        f"- Largest difference from NumPy: cosine {result['max_abs_diff_cosine_vs_numpy']:.2e}, "
        f"Euclidean {result['max_abs_diff_euclidean_vs_numpy']:.2e}.",
        f"- Vector lengths: {', '.join(f'{w} {n:.4f}' for w, n in norms.items())}.",
        f"- Unit vectors: the largest gap between |a-b|² and 2-2cos over {len(pairs)} pairs is {identity_gap:.2e} "
        "(rounding only).",
        f"- Neighbours of '{query}' by cosine: {', '.join(unit_cos_rank)}; by Euclidean distance: "
        f"{', '.join(unit_dist_rank)} — {'the same order' if unit_cos_rank == unit_dist_rank else 'DIFFERENT orders'}.",
        "",
        "## When they disagree: vectors that are not normalized",
        "",
        f"- Stretch '{stretched_word}' to 3× its length: cosine still ranks {', '.join(str_cos_rank[:3])}…, "
        f"Euclidean now ranks {', '.join(str_dist_rank[:3])}… "
        f"({'same order' if str_cos_rank == str_dist_rank else 'the orders now differ'}).",
        f"- Toy 2-d vectors {TOY}: cosine prefers '{toy_cos_rank[0]}', Euclidean prefers '{toy_dist_rank[0]}'.",
        "",
        "Cosine ignores length; Euclidean distance does not. Normalize first and the choice stops mattering.",
        "",
    )
    plot_identity(report, sq, two_minus)
    plot_toy(report)
    report.csv(
        "pairs.csv",
        ["a", "b", "cosine", "euclidean_unit_squared", "two_minus_two_cos"],
        [[a, b, f"{v.cosine(unit[a], unit[b]):.6f}", f"{s:.6f}", f"{t:.6f}"] for (a, b), s, t in zip(pairs, sq, two_minus)],
    )
    report.json("metrics.json", result)
    report.write()
    return result


def plot_identity(report: Report, sq: list[float], two_minus: list[float]) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 2], [0, 2], color=PALETTE[7], lw=0.8, label="y = x")
    ax.scatter(two_minus, sq, color=PALETTE[0], s=18, label="word pairs")
    ax.set_xlabel("2 − 2·cos(a, b)")
    ax.set_ylabel("‖a − b‖² (unit vectors)")
    ax.legend()
    report.figure(fig, "unit_identity.png", "For unit vectors the squared distance is 2 − 2·cos")


def plot_toy(report: Report) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    for (name, vec), color in zip(TOY.items(), PALETTE):
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color, "lw": 2})
        ax.text(vec[0], vec[1] + 0.05, name, color=color)
    ax.set_xlim(-0.1, 3.3)
    ax.set_ylim(-0.1, 0.8)
    ax.set_aspect("equal")
    ax.set_title("cosine picks 'long', Euclidean picks 'near'")
    report.figure(fig, "counter_example.png", "Unnormalized vectors: the two measures disagree")
