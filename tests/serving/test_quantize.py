"""INT8 weights: our per-row quantizer, the nn.Linear twin of GPT, and PyTorch's dynamic quantization."""

import pytest
import torch
from torch import nn

from omakase.engines.torch import padded_batch
from omakase.serving.measured import Measured  # noqa: E402
from omakase.model import held_out_loss
from omakase.serving import frozen, quantize


@pytest.fixture(scope="module")
def served(target_ckpt):
    return frozen.laminate(target_ckpt)


@pytest.fixture(scope="module")
def batch(served):
    return padded_batch(frozen.sample_of(frozen.held_out(served), 200), served.config.block_size)[0]


@pytest.fixture(scope="module")
def sample(served):
    return frozen.sample_of(frozen.held_out(served), 300)


def test_round_trip_error_per_row_is_at_most_half_a_step():
    w = torch.randn(9, 40) * torch.logspace(-3, 1, 9)[:, None]  # rows of very different sizes
    w[4] = 0  # a row of zeros
    values, scale = quantize.quantize_rows(w)
    assert values.dtype == torch.int8 and scale.shape == (9,)
    assert int(values.abs().max(dim=1).values[torch.arange(9) != 4].min()) == 127  # each row's largest hits 127
    assert scale[4] == 0 and torch.equal(quantize.dequantize(values, scale)[4], torch.zeros(40))
    error = (quantize.dequantize(values, scale) - w).abs().max(dim=1).values
    assert torch.all(error <= scale / 2 * (1 + 1e-5) + 1e-12)


def test_linear_gpt_gives_the_gpts_logits(served, batch):
    with torch.inference_mode():
        ours, theirs = quantize.LinearGPT(served.network)(batch), served.network(batch)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_our_int8_model_stores_every_weight_as_int8_and_barely_moves_the_loss(served, sample):
    model = quantize.int8_gpt(served.network)
    assert not list(model.parameters())  # nothing float left to learn or read: int8 values and scales only
    int8 = [t for t in model.state_dict().values() if t.dtype == torch.int8]
    assert len(int8) == 6 * served.config.n_layer + 3  # the layers' matrices, lm_head, wte, wpe
    assert frozen.weight_bytes(model) < 0.3 * frozen.weight_bytes(quantize.LinearGPT(served.network))
    base = held_out_loss(served.network, sample)
    assert abs(held_out_loss(model, sample) - base) < 0.05


def test_embeddings_can_stay_float(served):
    model = quantize.int8_gpt(served.network, embeddings=False)
    assert isinstance(model.wte, nn.Embedding) and isinstance(model.layers[0]["mlp_fc1"], quantize.Int8Linear)


@pytest.mark.skipif(quantize._int_mm_works() is not None, reason="torch._int_mm does not run on this CPU")
def test_int_mm_kernel_agrees_with_dequantizing(served, batch):
    with torch.inference_mode():
        a = quantize.int8_gpt(served.network, "int_mm")(batch)
        b = quantize.int8_gpt(served.network, "dequantize")(batch)
    assert (a - b).abs().max() < 0.05 * b.abs().max()


def test_torch_dynamic_quantization_replaces_every_linear_and_keeps_the_loss(served, sample):
    model, _ = quantize.torch_dynamic_int8(served.network)
    assert not any(type(m) is nn.Linear for m in model.modules())
    base = held_out_loss(served.network, sample)
    assert abs(held_out_loss(model, sample) - base) < 0.05
    assert frozen.weight_bytes(model) < 0.4 * frozen.weight_bytes(quantize.LinearGPT(served.network))


def test_int8_variants_are_a_quarter_of_the_bytes_and_keep_the_loss(served):
    result = quantize.measure(served, repeats=1, docs=20)
    rows = [dict(zip(result.columns, row)) for row in result.rows]
    assert rows[0]["variant"] == "float32" and rows[-1]["variant"] == "int8 torch dynamic"
    for r in rows[1:]:
        assert r["size x"] < 0.4  # one byte a weight (plus scales) against four
        assert abs(r["loss change"]) < 0.01  # per-row scales keep the rounding small
        assert r["forward tokens/s"] > 0 and r["generate tokens/s"] > 0


def _measured(forward_x: float, generate_x: float) -> Measured:
    columns = ["variant", "weight bytes", "saved bytes", "size x", "forward tokens/s", "forward x",
               "generate tokens/s", "generate x", "held-out loss", "loss change"]
    rows = [["float32", 400, 420, 1.0, 100.0, 1.0, 10.0, 1.0, 2.0, 0.0],
            ["int8 a", 100, 120, 0.25, 100.0 * forward_x, forward_x, 10.0 * generate_x, generate_x, 2.01, 0.01]]
    return Measured("quantize", "INT8", columns, rows)


def test_the_4x_claim_is_judged_from_the_measured_ratios():
    assert "'4x faster' held" in quantize._notes(_measured(4.2, 1.0))[-1]
    assert "'4x faster' held" in quantize._notes(_measured(1.0, 4.0))[-1]
    slow = quantize._notes(_measured(3.9, 0.8))
    assert "'4x faster' did not hold" in slow[-1] and "3.90x (int8 a)" in slow[-1]
    assert "0.25x the float32 weight bytes (100 vs 400)" in slow[0]