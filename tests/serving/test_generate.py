"""The KV cache and batching give the very tokens of plain greedy decoding; their measurements say so."""

import pytest
import torch

from omakase.serving import batch, frozen, kv
from omakase.serving.generate import cache_bytes, greedy_cached, greedy_recomputed


@pytest.fixture(scope="module")
def served(target_ckpt):
    return frozen.laminate(target_ckpt, "float64")


def test_cache_gives_the_tokens_of_recomputing_the_prefix(served):
    bos = served.tokenizer.bos
    prompts = torch.tensor([[bos, 1, 4], [bos, 13, 0], [bos, 25, 8]])
    assert torch.equal(greedy_cached(served.model, prompts, 14), greedy_recomputed(served.model, prompts, 14))


def test_a_batch_gives_each_request_its_own_tokens(served):
    requests = batch.prompts(served, 8)
    together = greedy_cached(served.model, requests, 10)
    alone = torch.cat([greedy_cached(served.model, requests[i : i + 1], 10) for i in range(8)])
    assert torch.equal(together, alone)
    assert len({tuple(r) for r in together.tolist()}) > 1  # different requests, different answers


def test_generation_that_does_not_fit_the_block_is_refused(served):
    with pytest.raises(ValueError, match="do not fit"):
        greedy_cached(served.model, torch.tensor([[served.tokenizer.bos, 1]]), served.config.block_size)


def test_cache_bytes_count_keys_and_values_of_every_layer(served):
    cfg = served.config  # float64: 8 bytes a number; keys and values; every layer
    assert cache_bytes(served.model, 3, 5) == 2 * cfg.n_layer * 3 * 5 * cfg.n_embd * 8


def test_lengths_reach_the_block():
    assert kv.lengths_for(16) == [1, 2, 4, 8, 16]
    assert kv.lengths_for(64)[-1] == 64 and kv.lengths_for(12) == [1, 2, 4, 8, 12]


def test_kv_measure_reports_identical_tokens_and_a_bound(served):
    m = kv.measure(served, lengths=[1, 4], repeats=1)
    assert m.column("tokens") == [1, 4] and all(m.column("same tokens"))
    assert m.setup["bound_tokens_s"] > 0 and len(m.notes) == 3


def test_batch_measure_compares_with_batch_one(served):
    m = batch.measure(served, batch_sizes=(1, 4), repeats=1)
    assert m.column("throughput x")[0] == 1.0 and all(m.column("same tokens"))
