"""The fast kitchen computes exactly what the scalar kitchen computes, only faster."""

import random

import numpy as np
import pytest

from omakase import data
from omakase.adam import Adam
from omakase.config import GPTConfig, init_params
from omakase.engines import make_engine
from omakase.engines.numpy import NumpyEngine
from omakase.engines.scalar import ScalarEngine
from omakase.tokenizer import Tokenizer

TOL = 1e-10

# the reference microgpt's first 20 losses on names.txt (seed 42), printed to 4 decimals
REFERENCE_LOSSES = (
    "3.3660 3.4243 3.1778 3.0664 3.2209 2.9452 3.2894 3.3245 2.8990 3.2229 "
    "2.7964 2.9345 3.0544 3.0905 3.0651 2.7337 2.8839 2.8977 2.7073 2.7453"
).split()

CONFIGS = {
    "default": GPTConfig(vocab_size=27),
    "two layers": GPTConfig(vocab_size=27, n_layer=2),
    "odd dials": GPTConfig(vocab_size=11, n_layer=2, n_embd=12, n_head=3, block_size=5),
}


def random_docs(config: GPTConfig, rng: random.Random, count: int, longest: int) -> list[list[int]]:
    """Token lists [BOS] + random characters + [BOS]: the first has `longest` characters, the rest 0 to longest."""
    bos = config.vocab_size - 1
    lengths = [longest] + [rng.randrange(longest + 1) for _ in range(count - 1)]
    return [[bos] + [rng.randrange(bos) for _ in range(n)] + [bos] for n in lengths]


def both_engines(config: GPTConfig, seed: int = 0):
    # a wide init (std 0.5) so attention and ReLU are far from uniform and every rule is exercised
    params = init_params(config, random.Random(seed), std=0.5)
    return ScalarEngine(config, params), NumpyEngine(config, params)


def assert_close(a, b, tol=TOL):
    assert np.abs(np.asarray(a) - np.asarray(b)).max() <= tol


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("batch", [1, 5])
def test_loss_and_every_gradient_match_the_scalar_engine(name, batch):
    config = CONFIGS[name]
    scalar, fast = both_engines(config)
    docs = random_docs(config, random.Random(1), batch, longest=config.block_size + 4)
    loss = scalar.loss_and_grads(docs)
    assert abs(fast.loss_and_grads(docs) - loss) <= TOL
    assert abs(fast.loss(docs) - loss) <= TOL
    expected, got = scalar.grads(), fast.grads()
    assert list(got) == list(expected)
    for matrix in expected:
        assert_close(got[matrix], expected[matrix])


def test_a_batch_is_token_weighted_over_its_documents():
    config = CONFIGS["default"]
    _, fast = both_engines(config)
    docs = [[26, 0, 26], [26, 1, 2, 3, 4, 5, 6, 26]]  # 2 and 7 predicted positions
    alone = [fast.loss([doc]) for doc in docs]
    assert abs(fast.loss(docs) - (2 * alone[0] + 7 * alone[1]) / 9) <= TOL
    together = fast.loss(docs)
    fast.eval_batch = 1  # a long list of documents is measured a few at a time: same number
    assert abs(fast.loss(docs) - together) <= TOL


def test_kv_cache_logits_match_the_scalar_engine_and_the_whole_sequence():
    config = CONFIGS["odd dials"]
    scalar, fast = both_engines(config)
    tokens = random_docs(config, random.Random(2), 1, longest=config.block_size)[0] + [3, 4, 5]
    tokens = tokens[: config.block_size]
    whole, _ = fast.forward(np.array([tokens]))
    scalar_cache, fast_cache = scalar.new_cache(), fast.new_cache()
    for pos, token in enumerate(tokens):
        step = fast.logits(fast_cache, token, pos)
        assert isinstance(step[0], float)
        assert_close(step, scalar.logits(scalar_cache, token, pos))
        assert_close(step, whole[0, pos])


def test_trace_records_what_the_scalar_engine_records():
    config = CONFIGS["two layers"]
    scalar, fast = both_engines(config)
    scalar_trace, fast_trace = {}, {}
    scalar_cache, fast_cache = scalar.new_cache(), fast.new_cache()
    for pos, token in enumerate([26, 4, 12]):
        scalar.forward_token(token, pos, scalar_cache, scalar_trace)
        fast.forward_token(token, pos, fast_cache, fast_trace)
    assert fast_trace.keys() == scalar_trace.keys()
    assert len(fast_trace["attention"]) == 3 * config.n_layer  # per token, per layer: one list per head
    for key, expected in scalar_trace.items():
        assert len(fast_trace[key]) == len(expected)
        for a, b in zip(fast_trace[key], expected):
            assert_close(a, b)


def test_update_applies_the_same_adam_rule_and_clears_the_gradients():
    config = CONFIGS["two layers"]
    scalar, fast = both_engines(config)
    docs = random_docs(config, random.Random(3), 3, longest=8)
    for t in (1, 2):
        scalar.loss_and_grads(docs)
        fast.loss_and_grads(docs)
        scalar.update(Adam(), 0.01, t)
        fast.update(Adam(), 0.01, t)
    for matrix, rows in scalar.params().items():
        assert_close(fast.params()[matrix], rows)
    for expected, got in zip(scalar.moments(), fast.moments()):
        for matrix in expected:
            assert_close(got[matrix], expected[matrix])
    assert not fast.grad.any()


def test_weights_and_moments_round_trip():
    config = CONFIGS["odd dials"]
    _, fast = both_engines(config)
    fast.loss_and_grads(random_docs(config, random.Random(4), 2, longest=6))
    fast.update(Adam(), 0.01, 1)
    again = make_engine("numpy", config, fast.params(), fast.moments())
    assert again.name == "numpy"
    assert np.array_equal(again.data, fast.data)
    assert np.array_equal(again.m, fast.m) and np.array_equal(again.v, fast.v)


def reference_run(steps: int, engine_name: str):
    """The reference's procedure: seed 42, shuffle, init, one name per step, linear learning-rate decay."""
    rng = random.Random(42)
    docs = data.read_docs(data.resolve(None))
    rng.shuffle(docs)
    tok = Tokenizer.from_docs(docs)
    config = GPTConfig(vocab_size=tok.vocab_size)
    engine = make_engine(engine_name, config, init_params(config, rng))
    adam = Adam()
    for step in range(steps):
        loss = engine.loss_and_grads([tok.encode(docs[step])])
        engine.update(adam, 0.01 * (1 - step / 1000), step + 1)
        yield loss


def test_first_20_steps_reproduce_the_reference_losses():
    assert [f"{loss:.4f}" for loss in reference_run(20, "numpy")] == REFERENCE_LOSSES


@pytest.mark.slow
def test_all_1000_steps_match_the_scalar_engine_and_the_reference():
    fast = list(reference_run(1000, "numpy"))
    scalar = list(reference_run(1000, "scalar"))
    assert [f"{x:.4f}" for x in fast] == [f"{x:.4f}" for x in scalar]
    assert f"{fast[-1]:.4f}" == "2.6497"
