import math
import random

import numpy as np
import pytest
from scipy.spatial import distance

from omakase.lab import vectors as v


def random_vectors(n, dim, seed=0):
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(dim)] for _ in range(n)]


def test_cosine_and_euclidean_match_numpy_and_scipy():
    for a, b in zip(*[random_vectors(20, 16, seed) for seed in (1, 2)]):
        na, nb = np.array(a), np.array(b)
        expected_cos = na @ nb / (np.linalg.norm(na) * np.linalg.norm(nb))
        assert v.cosine(a, b) == pytest.approx(expected_cos, abs=1e-12)
        # SciPy's cosine is a distance: 1 - cos
        assert v.cosine(a, b) == pytest.approx(1 - distance.cosine(a, b), abs=1e-12)
        assert v.euclidean(a, b) == pytest.approx(np.linalg.norm(na - nb), abs=1e-12)
        assert v.euclidean(a, b) == pytest.approx(distance.euclidean(a, b), abs=1e-12)


def test_unit_vectors_squared_distance_is_two_minus_two_cos():
    vecs = [v.unit(x) for x in random_vectors(10, 32)]
    for a in vecs:
        assert v.norm(a) == pytest.approx(1.0)
        for b in vecs:
            assert v.euclidean(a, b) ** 2 == pytest.approx(2 - 2 * v.cosine(a, b), abs=1e-12)


def test_unnormalized_vectors_can_rank_differently():
    query, long, near = [1.0, 0.0], [3.0, 0.3], [0.9, 0.5]
    assert v.cosine(query, long) > v.cosine(query, near)  # cosine prefers the same direction
    assert v.euclidean(query, near) < v.euclidean(query, long)  # distance prefers the closer point


def test_bad_vectors_are_refused():
    with pytest.raises(ValueError):
        v.cosine([0.0, 0.0], [1.0, 0.0])
    with pytest.raises(ValueError):
        v.euclidean([1.0], [1.0, 2.0])
    assert math.isclose(v.cosine([1, 0], [-1, 0]), -1.0)
