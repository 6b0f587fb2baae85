"""The GPT on scalars: its parameters, its dials, and its gradients against finite differences."""

import random

import pytest

from omakase.config import GPTConfig, count_params, dial_name, init_params, param_shapes, params_per_block
from omakase.engines.scalar import ScalarEngine
from omakase.errors import OmakaseError


def test_the_reference_config_has_4192_parameters():
    cfg = GPTConfig(vocab_size=27)
    assert count_params(cfg) == 4192
    assert params_per_block(cfg) == {"wte": 432, "wpe": 256, "lm_head": 432, "attention": 1024, "MLP": 2048}
    assert [n for n, _ in param_shapes(cfg)][:4] == ["wte", "wpe", "lm_head", "layer0.attn_wq"]
    assert dial_name(cfg, 0) == "wte[0][0]"
    assert dial_name(cfg, 432 + 256 + 432 + 1024 + 16 * 12 + 3) == "layer0.mlp_fc1[12][3]"


@pytest.mark.parametrize("kwargs, words", [
    (dict(n_embd=10, n_head=4), "divisible"),
    (dict(n_layer=0), "n-layer"),
    (dict(block_size=-1), "block-size"),
])
def test_invalid_configs_are_clear_errors(kwargs, words):
    with pytest.raises(OmakaseError, match=words):
        GPTConfig(vocab_size=27, **kwargs)


def test_a_whole_tiny_model_matches_finite_differences():
    cfg = GPTConfig(vocab_size=5, n_layer=2, n_embd=4, n_head=2, block_size=4)
    params = init_params(cfg, random.Random(1), std=0.5)
    docs = [[4, 0, 1, 2, 0, 3, 4], [4, 2, 4]]  # the first is longer than block_size: cut to 4 positions
    engine = ScalarEngine(cfg, params)
    engine.loss_and_grads(docs)
    grads = engine.grads()
    rng, h = random.Random(0), 1e-6
    for name, (rows, cols) in param_shapes(cfg):
        for _ in range(3):
            r, c = rng.randrange(rows), rng.randrange(cols)
            old = params[name][r][c]
            params[name][r][c] = old + h
            up = ScalarEngine(cfg, params).loss(docs)
            params[name][r][c] = old - h
            down = ScalarEngine(cfg, params).loss(docs)
            params[name][r][c] = old
            assert grads[name][r][c] == pytest.approx((up - down) / (2 * h), abs=1e-7), f"{name}[{r}][{c}]"


def test_a_document_longer_than_the_block_is_cut():
    cfg = GPTConfig(vocab_size=5, n_embd=4, n_head=2, block_size=3)
    engine = ScalarEngine(cfg, init_params(cfg, random.Random(0)))
    assert engine.loss([[4, 0, 1, 2, 3, 0, 4]]) == engine.loss([[4, 0, 1, 2]])
