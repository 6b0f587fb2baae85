"""Every engine computes exactly what the scalar kitchen computes: the oracle is scalar.py.

Each test runs once per registered engine (a new engine in engines.ENGINES is proven here
with no new test); an engine whose extra is not installed is skipped with the reason.
"""

import math
import random

import numpy as np
import pytest

from omakase import data
from omakase.adam import Adam
from omakase.config import GPTConfig, init_params
from omakase.engines import ENGINES, engine_class, make_engine
from omakase.engines.scalar import ScalarEngine
from omakase.errors import OmakaseError
from omakase.sample import softmax
from omakase.tokenizer import Tokenizer

TOL = 1e-10

# the reference microgpt's first 20 losses on names.txt (seed 42), printed to 4 decimals

CONFIGS = {
    "default": GPTConfig(vocab_size=27),
    "two layers": GPTConfig(vocab_size=27, n_layer=2),
    "odd dials": GPTConfig(vocab_size=11, n_layer=2, n_embd=12, n_head=3, block_size=5),
}


def _engine_or_skip(name: str):
    try:
        return engine_class(name)
    except OmakaseError as e:
        pytest.skip(str(e))


@pytest.fixture(params=[name for name in ENGINES if name != "scalar"])
def engine(request):
    """The class of an engine under test."""
    return _engine_or_skip(request.param)


def random_docs(config: GPTConfig, rng: random.Random, count: int, longest: int) -> list[list[int]]:
    """Token lists [BOS] + random characters + [BOS]: the first has `longest` characters, the rest 0 to longest."""
    bos = config.vocab_size - 1
    lengths = [longest] + [rng.randrange(longest + 1) for _ in range(count - 1)]
    return [[bos] + [rng.randrange(bos) for _ in range(n)] + [bos] for n in lengths]


def oracle_and(engine, config: GPTConfig, seed: int = 0):
    # a wide init (std 0.5) so attention and ReLU are far from uniform and every rule is exercised
    params = init_params(config, random.Random(seed), std=0.5)
    return ScalarEngine(config, params), engine(config, params)


def assert_close(a, b, tol=TOL):
    assert np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).max() <= tol


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("batch", [1, 5])
def test_loss_and_every_gradient_match_the_scalar_engine(engine, name, batch):
    config = CONFIGS[name]
    scalar, other = oracle_and(engine, config)
    docs = random_docs(config, random.Random(1), batch, longest=config.block_size + 4)  # some cut to the block
    loss = scalar.loss_and_grads(docs)
    assert abs(other.loss_and_grads(docs) - loss) <= TOL
    assert abs(other.loss(docs) - loss) <= TOL
    expected, got = scalar.grads(), other.grads()
    assert list(got) == list(expected)
    for matrix in expected:
        assert_close(got[matrix], expected[matrix])


def test_a_batch_is_token_weighted_over_its_documents(engine):
    _, other = oracle_and(engine, CONFIGS["default"])
    docs = [[26, 0, 26], [26, 1, 2, 3, 4, 5, 6, 26]]  # 2 and 7 predicted positions
    alone = [other.loss([doc]) for doc in docs]
    assert abs(other.loss(docs) - (2 * alone[0] + 7 * alone[1]) / 9) <= TOL


def test_kv_cache_logits_match_the_scalar_engine_and_the_whole_document(engine):
    config = CONFIGS["odd dials"]
    scalar, other = oracle_and(engine, config)
    tokens = random_docs(config, random.Random(2), 1, longest=config.block_size)[0][: config.block_size + 1]
    scalar_cache, cache, nll = scalar.new_cache(), other.new_cache(), []
    for pos, token in enumerate(tokens[:-1]):
        step = other.logits(cache, token, pos)
        assert isinstance(step[0], float)
        assert_close(step, scalar.logits(scalar_cache, token, pos))
        nll.append(-math.log(softmax(step)[tokens[pos + 1]]))
    # the cached, one-token-at-a-time path gives the loss that the whole-document path computes
    assert abs(sum(nll) / len(nll) - other.loss([tokens])) <= TOL


def test_trace_records_what_the_scalar_engine_records(engine):
    config = CONFIGS["two layers"]
    scalar, other = oracle_and(engine, config)
    scalar_trace, trace = {}, {}
    scalar_cache, cache = scalar.new_cache(), other.new_cache()
    for pos, token in enumerate([26, 4, 12]):
        scalar.forward_token(token, pos, scalar_cache, scalar_trace)
        other.forward_token(token, pos, cache, trace)
    assert trace.keys() == scalar_trace.keys()
    assert len(trace["attention"]) == 3 * config.n_layer  # per token, per layer: one list per head
    for key, expected in scalar_trace.items():
        assert len(trace[key]) == len(expected)
        for a, b in zip(trace[key], expected):
            assert_close(a, b)


def test_update_applies_the_same_adam_rule_and_clears_the_gradients(engine):
    config = CONFIGS["two layers"]
    scalar, other = oracle_and(engine, config)
    docs = random_docs(config, random.Random(3), 3, longest=8)
    for t in (1, 2):
        scalar.loss_and_grads(docs)
        other.loss_and_grads(docs)
        scalar.update(Adam(), 0.01, t)
        other.update(Adam(), 0.01, t)
    for matrix, rows in scalar.params().items():
        assert_close(other.params()[matrix], rows)
    for expected, got in zip(scalar.moments(), other.moments()):
        for matrix in expected:
            assert_close(got[matrix], expected[matrix])
    assert all(not any(any(row) for row in g) for g in other.grads().values())


def test_checkpoints_are_interchangeable_with_the_scalar_engine(engine):
    config = CONFIGS["odd dials"]
    _, other = oracle_and(engine, config)
    docs = random_docs(config, random.Random(4), 2, longest=6)
    other.loss_and_grads(docs)
    other.update(Adam(), 0.01, 1)
    scalar = ScalarEngine(config, other.params(), other.moments())
    again = engine(config, scalar.params(), scalar.moments())
    assert again.params() == other.params() and again.moments() == other.moments()  # bit for bit
    assert abs(scalar.loss(docs) - other.loss(docs)) <= TOL


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


@pytest.mark.parametrize("name", list(ENGINES))
def test_first_20_steps_reproduce_the_reference_losses(name, reference_losses):
    _engine_or_skip(name)
    assert [f"{loss:.4f}" for loss in reference_run(20, name)] == reference_losses[:20]


def test_a_missing_engine_dependency_is_one_line(monkeypatch):
    monkeypatch.setitem(ENGINES, "ghost", ("omakase_no_such_module:Ghost", "ghost"))
    with pytest.raises(OmakaseError, match=r'pip install -e "\.\[ghost\]"'):
        engine_class("ghost")
