"""Experiment 1: do similar things get similar vectors? Cosine-similarity matrices as heatmaps.

Three built-in sets: eight words, three paraphrase pairs, and the same "sum" in
Python, JavaScript and SQL. Users can pass their own items instead.
"""

from __future__ import annotations

import numpy as np

from .embedders import Embedder
from ..report_folder import Report, pyplot

BUILTIN_SETS = {
    "words": ["cat", "dog", "car", "tree", "happy", "sad", "run", "walk"],
    "paraphrases": [
        "the big dog ran fast",
        "a large canine sprinted",
        "software engineer writes code",
        "developer programs applications",
        "machine learning algorithm",
        "AI model training process",
    ],
    "sum-in-three-languages": [
        "def total(xs):\n    return sum(xs)",
        "function total(xs) {\n  return xs.reduce((a, b) => a + b, 0);\n}",
        "SELECT SUM(amount) AS total FROM payments;",
    ],
}
SHORT_LABELS = {"sum-in-three-languages": ["Python sum", "JavaScript sum", "SQL SUM"]}


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit @ unit.T


def heatmap(report: Report, name: str, labels: list[str], sim: np.ndarray, title: str) -> None:
    plt = pyplot()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(1.1 * n + 2.5, 0.9 * n + 1.8))
    im = ax.imshow(sim, cmap="cividis", vmin=min(0.0, float(sim.min())), vmax=1.0)
    ax.set_xticks(range(n), labels, rotation=40, ha="right")
    ax.set_yticks(range(n), labels)
    for i in range(n):
        for j in range(n):
            # dark text on the light end of cividis, light text on the dark end
            ax.text(j, i, f"{sim[i, j]:.2f}", ha="center", va="center", color="black" if sim[i, j] > 0.6 else "white")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="cosine similarity")
    report.figure(fig, f"{name}.png", title)


def short(text: str, width: int = 28) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def run(embedder: Embedder, report: Report, sets: dict[str, list[str]]) -> dict:
    """Embed each set, write a heatmap and CSV per set, and return the matrices."""
    results = {}
    report.add(
        "# Experiment 1: similarity matrices",
        "",
        f"Embedder: **{embedder.name}**, {embedder.dim} dimensions per vector. "
        "Each cell is the cosine similarity of two items (1 = same direction).",
        "",
    )
    for name, items in sets.items():
        emb = embedder.embed(items)
        sim = cosine_matrix(emb.vectors)
        labels = SHORT_LABELS.get(name) if sets is BUILTIN_SETS else None
        labels = labels or [short(t) for t in items]
        report.add(f"## {name}", "")
        heatmap(report, name, labels, sim, f"{name} ({embedder.name}, {embedder.dim}-d)")
        report.csv(f"{name}.csv", ["item", *labels], [[lab, *(f"{x:.4f}" for x in row)] for lab, row in zip(labels, sim)])
        if emb.n_affected:
            report.add(f"{emb.n_affected} of {len(items)} items lost {sum(emb.unseen)} tokens: {embedder.unseen_means}.", "")
        results[name] = {"items": items, "labels": labels, "matrix": sim.round(4).tolist(), "unseen": emb.unseen}
    report.add(
        "## Limits",
        "",
        "A handful of hand-picked items shows what the geometry looks like, not how well the model works: "
        "for that, see `omakase lab eval`, which measures retrieval on a labeled set with confidence intervals.",
    )
    report.json("similarity.json", {"embedder": embedder.name, "dim": embedder.dim, "sets": results})
    report.write()
    return results
