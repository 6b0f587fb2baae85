"""The six techniques, their gradients, and the chain rule."""

import math

import pytest

from omakase.autograd import LEAF, TECHNIQUES, Value, add, count_techniques, dot


def numeric_grad(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize(
    "name, build, plain, x",
    [
        ("add", lambda a: a + Value(1.7), lambda a: a + 1.7, 0.3),
        ("add n-ary", lambda a: add([a, a * 2, Value(0.5)]), lambda a: a + 2 * a + 0.5, -0.4),
        ("mul", lambda a: a * Value(-2.5), lambda a: -2.5 * a, 1.1),
        ("pow", lambda a: a**3, lambda a: a**3, 0.7),
        ("pow negative", lambda a: a**-0.5, lambda a: a**-0.5, 1.3),
        ("log", lambda a: a.log(), math.log, 2.2),
        ("exp", lambda a: a.exp(), math.exp, -0.6),
        ("relu +", lambda a: a.relu(), lambda a: max(0.0, a), 0.8),
        ("relu -", lambda a: a.relu(), lambda a: max(0.0, a), -0.8),
        ("neg", lambda a: -a, lambda a: -a, 0.9),
        ("sub", lambda a: Value(3.0) - a, lambda a: 3.0 - a, 0.2),
        ("div", lambda a: Value(1.0) / a, lambda a: 1.0 / a, 1.9),
        ("dot", lambda a: dot([a, Value(2.0)], [Value(3.0), a]), lambda a: 3 * a + 2 * a, 0.1),
    ],
)
def test_each_technique_matches_central_differences(name, build, plain, x):
    a = Value(x)
    out = build(a)
    out.backward()
    assert out.data == pytest.approx(plain(x), abs=1e-12)
    assert a.grad == pytest.approx(numeric_grad(plain, x), abs=1e-6)


def test_the_articles_worked_example():
    """Salt 2, sugar 3: blend -> 6, combine with salt -> 8; salt's influence 3 + 1 = 4, sugar's 2."""
    a, b = Value(2.0), Value(3.0)
    c = a * b
    L = c + a
    L.backward()
    assert (L.data, a.grad, b.grad) == (8.0, 4.0, 2.0)


def test_gradients_accumulate_where_a_value_is_used_twice():
    a = Value(3.0)
    y = a * a + a  # dy/da = 2a + 1
    y.backward()
    assert a.grad == 7.0


def test_every_node_records_one_of_six_techniques_and_there_is_no_seventh():
    a, b = Value(0.5), Value(-1.5)
    out = ((a * b + a**2).exp() + (a - b).relu() / (b * b)).log()
    counts = count_techniques(out)
    assert set(counts) == set(TECHNIQUES) | {LEAF}
    assert counts[LEAF] == 2
    assert all(counts[t] >= 1 for t in TECHNIQUES)


def test_pow_takes_only_a_constant_exponent():
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)
