"""The ONNX hack: the exported graph gives PyTorch's logits, on any batch and length, and its greedy tokens."""

import sys

import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from omakase.engines.torch import padded_batch  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402
from omakase.serving import frozen, onnx_run  # noqa: E402
from omakase.serving.measured import Measured  # noqa: E402


@pytest.fixture(scope="module")
def exported(target_ckpt, tmp_path_factory):
    """The fixture model, float32, exported once for the whole file (the export takes seconds)."""
    served = frozen.laminate(target_ckpt, "float32")
    path = onnx_run.export(served.network, tmp_path_factory.mktemp("onnx") / "target.onnx")
    return served, path, onnx_run.session(path)


def test_the_file_is_complete_and_self_contained(exported):
    served, path, _ = exported
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no external-data file beside it
    assert onnx_run.initializer_bytes(path) >= frozen.weight_bytes(served.network)  # every weight is inside


def test_logits_match_pytorch_within_1e4_on_held_out_documents(exported):
    served, _, sess = exported
    inputs = padded_batch(frozen.sample_of(frozen.held_out(served), 64), served.config.block_size)[0]
    assert inputs.shape[0] == 64
    assert onnx_run.max_difference(served.network, sess, inputs) <= onnx_run.TOLERANCE


def test_one_file_serves_any_batch_and_length(exported):
    served, _, sess = exported
    block, vocab = served.config.block_size, served.config.vocab_size
    g = torch.Generator().manual_seed(0)
    for batch, length in ((1, 1), (5, 4), (3, block)):
        inputs = torch.randint(0, vocab, (batch, length), generator=g)
        assert onnx_run.run(sess, inputs.numpy()).shape == (batch, length, vocab)
        assert onnx_run.max_difference(served.network, sess, inputs) <= onnx_run.TOLERANCE


def test_greedy_generation_gives_pytorchs_tokens(exported):
    served, _, sess = exported
    bos, n_new = served.tokenizer.bos, served.config.block_size  # two-token prompts, then fill the block
    prompts = [[bos, served.tokenizer.ids("a")[0]], [bos, served.tokenizer.ids("m")[0]]]
    got = onnx_run.greedy(onnx_run.backend(sess, served.config), prompts, n_new - 1)
    assert [len(row) for row in got] == [n_new - 1] * 2
    assert got == onnx_run.greedy(served, prompts, n_new - 1)  # PyTorch's, the prefix recomputed too


def test_session_uses_pytorchs_thread_count(exported):
    _, path, _ = exported
    sess = onnx_run.session(path)
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert sess.get_session_options().intra_op_num_threads == torch.get_num_threads()


@pytest.mark.parametrize("missing", ["onnxruntime", "onnxscript", "onnx"])
def test_missing_extra_is_one_line_naming_it(exported, monkeypatch, missing):
    served, path, _ = exported
    monkeypatch.setitem(sys.modules, missing, None)  # `import missing` now raises ImportError
    call = {"onnxruntime": lambda: onnx_run.session(path)}.get(missing, lambda: onnx_run.export(served.network, path))
    with pytest.raises(OmakaseError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    assert f"needs {missing}," in message and 'pip install -e ".[service]"' in message


def test_notes_are_computed_from_the_rows():
    m = Measured("onnx", "t", ["work", "batch", "tokens", "torch tokens/s", "onnxruntime tokens/s",
                               "onnxruntime / torch", "max |logits diff|", "same tokens"],
                 [["forward", 1, 10, 100.0, 300.0, 3.0, 2e-6, None],
                  ["forward", 8, 80, 800.0, 400.0, 0.5, 3e-4, None],
                  ["generate", 1, 16, 50.0, 100.0, 2.0, None, False]],
                 setup={"onnx_bytes": 2000, "initializer_bytes": 1010, "parameter_bytes": 1000})
    notes = onnx_run.notes(m)
    assert "3.00e-04, BEYOND the 0.0001" in notes[0] and "over 8 held-out" in notes[0]
    assert "batch 1: onnxruntime ran 3.00x" in notes[1] and "batch 8: onnxruntime ran 0.50x" in notes[2]
    assert "2.00x" in notes[3] and "DIFFERED" in notes[3]
    assert "2.00x the 1,000 bytes" in notes[4] and "1,010 bytes of weights and constants (1.01x)" in notes[4]
    assert len(notes) == 5


@pytest.mark.slow
def test_measure_end_to_end(target_ckpt, tmp_path):
    served = frozen.laminate(target_ckpt, "float32")
    calls = []
    m = onnx_run.measure(served, batch_sizes=(1, 4), repeats=1, progress=lambda *a: calls.append(a),
                         folder=tmp_path)
    assert m.column("work") == ["forward", "forward", "generate"] and m.column("batch") == [1, 4, 1]
    assert max(d for d in m.column("max |logits diff|") if d is not None) <= onnx_run.TOLERANCE
    assert m.column("same tokens")[-1] is True
    assert (tmp_path / "target.onnx").stat().st_size == m.setup["onnx_bytes"]
    assert [c[:2] for c in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
