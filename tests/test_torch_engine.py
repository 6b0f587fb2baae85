"""What only the torch engine has: dtypes, devices, dropout, micro-batches, and the big presets' shapes."""

import math
import random

import pytest

torch = pytest.importorskip("torch", reason='the torch extra is not installed: pip install -e ".[torch]"')

from omakase import train as training  # noqa: E402
from omakase.config import GPTConfig, MODEL_DIALS, PRESETS, init_params  # noqa: E402
from omakase.engines.torch import TorchEngine, pick_device  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402
from test_cli import fails_cleanly  # noqa: E402

CONFIG = GPTConfig(vocab_size=11, n_layer=2, n_embd=8, n_head=2, block_size=6)
DOCS = [[10, 1, 2, 3, 4, 5, 6, 10], [10, 4, 5, 10], [10, 7, 10], [10, 1, 1, 2, 10]]


def engine(**options) -> TorchEngine:
    return TorchEngine(CONFIG, init_params(CONFIG, random.Random(0), std=0.5), **options)


def test_float32_and_bfloat16_are_close_to_float64():
    exact = engine().loss(DOCS)
    assert engine(dtype="float32").loss(DOCS) == pytest.approx(exact, abs=1e-5)
    assert engine(dtype="bfloat16").loss(DOCS) == pytest.approx(exact, abs=0.1)


def test_bfloat16_autocast_is_off_on_the_cpu_unless_asked_for():
    assert not engine(dtype="float32").autocast  # CUDA only, by default
    exact, mixed = engine().loss(DOCS), engine(dtype="float32", autocast=True).loss(DOCS)
    assert mixed == pytest.approx(exact, abs=0.1) and mixed != engine(dtype="float32").loss(DOCS)


def test_an_absent_device_is_one_clear_line():
    if not torch.cuda.is_available():
        with pytest.raises(OmakaseError, match="cuda is not available"):
            pick_device("cuda")
    with pytest.raises(OmakaseError, match="unknown device"):
        pick_device("tpu")
    with pytest.raises(OmakaseError, match="unknown dtype"):
        engine(dtype="float16x")


def test_micro_batches_add_up_to_the_whole_batch():
    whole, parts = engine(), engine(micro_batch=1)
    assert parts.loss_and_grads(DOCS) == pytest.approx(whole.loss_and_grads(DOCS), abs=1e-12)
    for name, rows in whole.grads().items():
        assert torch.tensor(parts.grads()[name]).allclose(torch.tensor(rows), atol=1e-12)


def test_dropout_works_while_training_only():
    dropped = engine(dropout=0.5)
    torch.manual_seed(0)
    training_losses = {round(dropped.loss_and_grads(DOCS), 12) for _ in range(3)}
    assert len(training_losses) > 1  # burners off at random: each step differs
    assert dropped.loss(DOCS) == engine().loss(DOCS)  # cooking and scoring: every burner on


@pytest.mark.parametrize("name", ["shakespeare-char",
                                  pytest.param("shakespeare-char-gpu", marks=pytest.mark.slow)])  # 6 layers of 384
def test_the_shakespeare_presets_build_and_take_a_step(name):
    text = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 40
    docs, info = ["".join(text)], {"layout": "stream", "name": "t", "sha256": "x", "n_docs": 1}
    preset = PRESETS[name]
    plan = training.Plan(steps=2, lr=preset["lr"], batch_size=1, warmup=0, schedule=preset["schedule"],
                         min_lr=preset["min_lr"], beta1=preset["beta1"], beta2=preset["beta2"],
                         weight_decay=preset["weight_decay"], clip=preset["clip"], dropout=preset["dropout"],
                         init_std=preset["init_std"])
    run = training.start(docs, info, plan, "torch", *(preset[k] for k in MODEL_DIALS),
                         engine_options={"dtype": "float32", "device": "cpu"})
    loss, _ = run.train_step()
    assert 0 < loss < 2 * math.log(run.config.vocab_size) and run.step == 1
    assert run.config.n_embd == preset["n_embd"] and run.config.block_size == preset["block_size"]


def test_torch_only_flags_need_the_torch_engine(in_tmp, tiny_data, capsys):
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--dtype", "float32", words="--engine torch")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--engine", "numpy", "--dropout", "0.1", words="torch")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--engine", "torch", "--device", "tpu",
                  words="must be one of auto, cpu, cuda, mps")


@pytest.mark.slow  # compiling takes tens of seconds on 2 cores
def test_a_compiled_model_computes_the_same_loss_and_gradients():
    eager, compiled = engine(), engine(compile=True)
    assert compiled.loss_and_grads(DOCS) == pytest.approx(eager.loss_and_grads(DOCS), abs=1e-10)
    for name, rows in eager.grads().items():
        assert torch.tensor(compiled.grads()[name]).allclose(torch.tensor(rows), atol=1e-10), name
