"""What a draft may cost: early exits of the target, prompt lookup and a small draft, side by side."""

import pytest
import torch

from omakase.errors import OmakaseError
from omakase.model import Sampler, generate
from omakase.serving import draft_cost, frozen, speculate

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def target(target_ckpt):
    return frozen.laminate(target_ckpt, "float32")


def test_an_early_exit_is_the_targets_first_layers_shared_not_copied(target):
    exit1 = draft_cost.early_exit(target, 1)
    assert exit1.config.n_layer == 1 and exit1.network.w("lm_head") is target.network.w("lm_head")
    assert exit1.network.w("layer0.mlp_fc1") is target.network.w("layer0.mlp_fc1")
    ids = torch.tensor([[target.tokenizer.bos] + target.tokenizer.ids("ma")])
    with torch.inference_mode():  # its logits: the target's stream after layer 0, read by the target's lm_head
        after_one = exit1.network(ids, hidden=True)
        assert torch.allclose(exit1.network(ids), after_one @ target.network.w("lm_head").T)
    for layers in (0, target.config.n_layer):
        with pytest.raises(OmakaseError, match="early exit needs"):
            draft_cost.early_exit(target, layers)
    # a draft that shares the target's vocabulary by construction: speculation keeps the target's greedy output
    bos = target.tokenizer.bos
    expected = generate(target, [bos], sampler=Sampler(0.0), max_new=15)[0].ids
    assert speculate.speculative_generate(target, exit1, [bos], 15, 3, Sampler(0.0))[0] == expected


def test_measure_gives_a_row_per_draft_computed_from_its_runs(target, draft_ckpt):
    m = draft_cost.measure(target, frozen.laminate(draft_ckpt, "float32"), k=3, repeats=1)
    rows = [dict(zip(m.columns, r)) for r in m.rows]
    assert [r["draft"] for r in rows] == ["prompt lookup", "early exit after layer 1", "small draft (1x16)"]
    assert rows[0]["cost ratio"] == 0 and all(r["identical to greedy"] for r in rows)
    assert all(0 <= r["acceptance rate"] <= 1 and r["tokens per round"] >= 1 for r in rows)
    assert rows[1]["drafts per round"] <= 3 and "Every draft gave the target's greedy output" in m.notes[-1]
