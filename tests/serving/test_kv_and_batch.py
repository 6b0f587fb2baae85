"""The KV cache and batching hacks: generate's tokens with the cache, batched and recomputed, the same."""

import pytest

from omakase.errors import OmakaseError
from omakase.model import Sampler, generate
from omakase.serving import batch, frozen, kv


@pytest.fixture(scope="module")
def served(target_ckpt):
    return frozen.laminate(target_ckpt, "float64")


def test_cache_gives_the_tokens_of_recomputing_the_prefix(served):
    bos = served.tokenizer.bos
    for prompt in ([bos, 1, 4], [bos, 13, 0], [bos, 25, 8]):
        assert kv.greedy(served, prompt, 14) == kv.greedy(served, prompt, 14, cache=False)


def test_a_batch_gives_each_request_its_own_tokens(served):
    requests = batch.prompts(served, 8)
    together = batch.greedy(served, requests, 10)
    assert together == [batch.greedy(served, [r], 10)[0] for r in requests]
    assert len({tuple(r) for r in together}) > 1  # different requests, different answers


def test_generation_that_does_not_fit_the_block_is_cut_at_the_block(served):
    made = generate(served, [served.tokenizer.bos, 1], sampler=Sampler(0.0), max_new=served.config.block_size)[0]
    assert made.reason == "block" and len(made.ids) == served.config.block_size - 1
    with pytest.raises(OmakaseError, match="reads at most"):
        kv.greedy(served, [served.tokenizer.bos] * (served.config.block_size + 1), 1)


def test_cache_bytes_count_keys_and_values_of_every_layer(served):
    cfg = served.config  # float64: 8 bytes a number; keys and values; every layer
    assert kv.cache_bytes(served, 3, 5) == 2 * cfg.n_layer * 3 * 5 * cfg.n_embd * 8
    cache = served.engine.new_cache(3)  # what the engine allocates for 3 rows of a whole block
    held = sum(t.numel() * t.element_size() for part in cache for t in part)
    assert held == kv.cache_bytes(served, 3, cfg.block_size)


def test_lengths_reach_the_block():
    assert kv.lengths_for(16) == [1, 2, 4, 8, 16]
    assert kv.lengths_for(64)[-1] == 64 and kv.lengths_for(12) == [1, 2, 4, 8, 12]


def test_kv_measure_reports_identical_tokens_and_a_bound(served):
    m = kv.measure(served, lengths=[1, 4], repeats=1)
    assert m.column("tokens") == [1, 4] and all(m.column("same tokens"))
    assert m.column("cache bytes") == [kv.cache_bytes(served, 1, 1), kv.cache_bytes(served, 1, 4)]
    assert m.setup["bound_tokens_s"] > 0


def test_batch_measure_checks_the_batched_tokens(served):
    m = batch.measure(served, batch_sizes=(1, 4), repeats=1)
    assert m.column("batch") == [1, 4] and all(m.column("same tokens"))
