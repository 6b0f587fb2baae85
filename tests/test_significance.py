import numpy as np

from omakase.significance import bootstrap_ci, paired_randomization


def test_bootstrap_interval_contains_mean_and_narrows_with_more_queries():
    rng = np.random.default_rng(0)
    small, large = rng.random(20), rng.random(2000)
    mean, lo, hi = bootstrap_ci(small, seed=1)
    assert lo < mean < hi
    _, lo2, hi2 = bootstrap_ci(large, seed=1)
    assert hi2 - lo2 < (hi - lo) / 3
    assert bootstrap_ci(small, seed=1) == bootstrap_ci(small, seed=1)  # seeded


def test_randomization_test_separates_real_from_null_differences():
    rng = np.random.default_rng(0)
    a = rng.random(60)
    diff, p = paired_randomization(a + 0.2, a, seed=0)  # every query better by 0.2
    assert abs(diff - 0.2) < 1e-9
    assert p < 0.001
    _, p_null = paired_randomization(a, a[::-1], seed=0)  # the same scores, paired differently
    assert p_null > 0.05
    _, p_same = paired_randomization(a, a, seed=0)
    assert p_same == 1.0
