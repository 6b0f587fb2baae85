"""Pruning: our magnitude masks against torch.nn.utils.prune, MLP units cut out, the fine-tune keeping zeros."""

import pytest
import torch

from omakase.engines.torch import padded_batch
from omakase.serving.measured import Measured  # noqa: E402
from omakase.model import Model, Sampler, generate
from omakase.serving import frozen, prune


@pytest.fixture(scope="module")
def served(target_ckpt):
    return frozen.laminate(target_ckpt)


@pytest.fixture(scope="module")
def batch(served):
    return padded_batch(frozen.sample_of(frozen.held_out(served), 100), served.config.block_size)[0]


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.9])
def test_our_masks_are_torchs_masks(served, sparsity):
    for name in prune.prunable(served.network):
        w = served.network.w(name)
        assert torch.equal(prune.magnitude_mask(w, sparsity), prune.torch_mask(w, sparsity)), name


def test_a_pruned_matrix_has_the_asked_sparsity_and_the_rest_is_untouched(served):
    model = served.network
    pruned, masks = prune.prune_unstructured(model, 0.3)
    assert sorted(masks) == sorted(prune.prunable(model))
    assert not any(n.startswith(("wte", "wpe", "lm_head")) for n in masks)
    for name in model.names:
        w, p = model.w(name), pruned.w(name)
        if name in masks:
            assert int((p == 0).sum()) == round(0.3 * w.numel())
            kept = masks[name]
            assert torch.equal(p[kept], w[kept])  # the weights kept are the original ones
            assert w[~kept].abs().max() <= w[kept].abs().min()  # and the ones dropped are the smallest
        else:
            assert torch.equal(p, w)
    assert prune.zero_fraction(pruned, model) == pytest.approx(0.3, abs=1e-3)
    assert torch.count_nonzero(model.w("layer0.attn_wq") == 0) == 0  # the served model is not touched


def test_removing_no_units_changes_nothing(served, batch):
    pruned, kept = prune.drop_mlp_units(served.network, 0.0)
    assert all(len(k) == 4 * served.config.n_embd for k in kept)
    with torch.inference_mode():
        assert torch.equal(pruned(batch), served.network(batch))


def test_structured_pruning_shrinks_the_matrices_and_the_forward_still_runs(served, batch):
    d = served.config.n_embd
    pruned, kept = prune.drop_mlp_units(served.network, 0.5)
    for i in range(served.config.n_layer):
        assert pruned.w(f"layer{i}.mlp_fc1").shape == (2 * d, d)
        assert pruned.w(f"layer{i}.mlp_fc2").shape == (d, 2 * d)
        assert torch.equal(pruned.w(f"layer{i}.mlp_fc1"), served.network.w(f"layer{i}.mlp_fc1")[kept[i]])
    with torch.inference_mode():
        logits = pruned(batch)
    assert logits.shape == (*batch.shape, served.config.vocab_size) and torch.isfinite(logits).all()
    bell = [served.tokenizer.bos]
    pruned_model = Model.around(pruned, served.tokenizer)
    greedy = lambda cache: generate(pruned_model, bell, sampler=Sampler(0.0), max_new=5, cache=cache)[0].ids  # noqa: E731
    assert greedy(True) == greedy(False)


def test_removing_units_whose_output_columns_are_zero_keeps_the_logits(served, batch):
    zeroed = prune.drop_mlp_units(served.network, 0.0)[0]  # a copy
    dead = torch.tensor([0, 5, 17, 40, 99, 127])
    with torch.no_grad():
        for i in range(served.config.n_layer):
            zeroed.w(f"layer{i}.mlp_fc2")[:, dead] = 0
    pruned, kept = prune.drop_mlp_units(zeroed, len(dead) / (4 * served.config.n_embd))
    assert all(not set(dead.tolist()) & set(k.tolist()) for k in kept)  # exactly the dead units went
    with torch.inference_mode():
        torch.testing.assert_close(pruned(batch), zeroed(batch), atol=1e-5, rtol=1e-5)


def test_finetune_keeps_pruned_weights_at_zero(served):
    pruned, masks = prune.prune_unstructured(served.network, 0.5)
    tuned = prune.finetune(pruned, frozen.training_docs(served), steps=3, masks=masks, batch=8)
    for name, mask in masks.items():
        assert torch.all(tuned.w(name)[~mask] == 0)
        assert not torch.equal(tuned.w(name)[mask], pruned.w(name)[mask])  # the rest did learn
    assert not tuned.training and not any(p.requires_grad for p in tuned.parameters())


def test_pruning_costs_loss_and_a_fine_tune_wins_some_back(served):
    result = prune.measure(served, sparsities=(0.5,), finetune_steps=20, repeats=1, docs=20)
    rows = {(r[0], r[1]): dict(zip(result.columns, r)) for r in result.rows}
    dense, cut = rows["unstructured", 0.0], rows["unstructured", 0.5]
    assert cut["weights removed"] == pytest.approx(0.5, abs=1e-3)  # counted in the pruned model's matrices
    assert rows["structured", 0.5]["weights removed"] == pytest.approx(1 / 3, abs=1e-3)  # MLP: 8 of 12 d^2
    assert cut["held-out loss"] > dense["held-out loss"]
    assert cut["after fine-tune"] < cut["held-out loss"]


def _measured(losses: list[float]) -> Measured:
    columns = ["method", "sparsity", "weights removed", "held-out loss", "after fine-tune", "tokens/s", "speed x"]
    rows = []
    for method in ("structured", "unstructured"):
        for sparsity, loss in zip((0.0, 0.1, 0.3, 0.5), losses):
            rows.append([method, sparsity, sparsity, loss, loss - 0.01, 100.0, 1.0])
    return Measured("prune", "Pruning", columns, rows, setup={"finetune_steps": 5})


def test_the_notes_find_how_far_pruning_is_almost_free():
    notes = prune._notes(_measured([2.0, 2.01, 2.04, 2.3]))
    assert notes[0].startswith(f"unstructured: the held-out loss rises by less than {prune.LOSS_TOLERANCE} up to 30%")
    assert "no speed-up" in notes[2]
    notes = prune._notes(_measured([2.0, 2.2, 2.4, 2.6]))
    assert notes[0] == "unstructured: already at 10% the held-out loss rises by 0.200 without fine-tuning"