"""Cosine similarity and Euclidean distance, written out in plain Python.

Tests check these against NumPy and SciPy (whose `cosine` is a distance, 1 - cos).
For unit vectors the two agree on every ranking, because
    |a - b|^2 = |a|^2 + |b|^2 - 2 a.b = 2 - 2 cos(a, b),
a decreasing function of cos. Without normalization, magnitude enters the
distance and the rankings can disagree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"vectors differ in length: {len(a)} vs {len(b)}")
    return sum(x * y for x, y in zip(a, b))


def norm(a: Sequence[float]) -> float:
    return math.sqrt(dot(a, a))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """cos of the angle between a and b: 1 same direction, 0 orthogonal, -1 opposite."""
    na, nb = norm(a), norm(b)
    if na == 0 or nb == 0:
        raise ValueError("cosine is undefined for a zero vector")
    return dot(a, b) / (na * nb)


def euclidean(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        raise ValueError(f"vectors differ in length: {len(a)} vs {len(b)}")
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def unit(a: Sequence[float]) -> list[float]:
    n = norm(a)
    if n == 0:
        raise ValueError("a zero vector has no direction")
    return [x / n for x in a]
