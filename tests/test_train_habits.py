"""A real kitchen's habits, for every engine: schedules, AdamW, clipping, epochs, and the stream layout."""

import math
import random

import numpy as np
import pytest

from omakase import train as training
from omakase.adam import Adam
from omakase.config import GPTConfig, init_params
from omakase.engines import make_engine
from omakase.errors import OmakaseError
from omakase.sample import write

TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n") * 6


def test_cosine_decay_warms_up_then_falls_to_the_floor():
    plan = training.Plan(steps=100, lr=1e-3, warmup=10, schedule="cosine", min_lr=1e-4)
    lrs = [training.learning_rate(plan, s) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)  # warmup: up to the peak
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))  # then only down
    assert lrs[-1] == pytest.approx(1e-4, rel=1e-2)
    reference = training.Plan()
    assert training.learning_rate(reference, 500) == 0.01 * (1 - 500 / 1000)  # the reference's decay, exactly


def test_adamw_shrinks_a_dial_the_gradient_does_not_touch():
    p, m, v = Adam(weight_decay=0.1).rule(2.0, 0.0, 0.0, 0.0, lr=0.5, t=1)
    assert p == pytest.approx(2.0 * (1 - 0.5 * 0.1))
    assert Adam().rule(2.0, 0.0, 0.0, 0.0, lr=0.5, t=1)[0] == 2.0


@pytest.mark.parametrize("bad", [dict(schedule="step"), dict(min_lr=1.0), dict(beta1=1.5), dict(clip=-1.0),
                                 dict(dropout=1.0), dict(weight_decay=math.nan)])
def test_bad_habits_are_refused(bad):
    with pytest.raises(OmakaseError):
        training.Plan(**bad)


def test_clipping_is_the_same_cap_in_every_engine():
    config = GPTConfig(vocab_size=11, n_embd=8, n_head=2, block_size=6)
    params = init_params(config, random.Random(0), std=0.5)
    docs = [[10, 1, 2, 3, 10], [10, 4, 5, 10]]
    clipped = {}
    for name in ("scalar", "numpy"):
        engine = make_engine(name, config, params)
        engine.loss_and_grads(docs)
        norm = engine.clip_grads(0.1)
        clipped[name] = (norm, np.concatenate([np.ravel(g) for g in engine.grads().values()]))
    assert clipped["scalar"][0] == pytest.approx(clipped["numpy"][0], abs=1e-10) and clipped["numpy"][0] > 0.1
    assert np.linalg.norm(clipped["numpy"][1]) == pytest.approx(0.1)
    assert np.abs(clipped["scalar"][1] - clipped["numpy"][1]).max() < 1e-10


def test_a_run_counts_its_clips_and_epochs(tiny_data):
    docs, info = training.load_dataset(str(tiny_data))
    run = training.start(docs, info, training.Plan(steps=10, batch_size=3, clip=1e-3), "numpy")
    for _ in range(4):
        run.train_step()
    assert run.clipped == 4  # a cap this low scales every step's gradients
    assert run.epochs == pytest.approx(4 * 3 / run.n_train)
    assert run.checkpoint().run["clipped"] == 4


def test_dropout_needs_the_torch_engine(tiny_data):
    docs, info = training.load_dataset(str(tiny_data))
    with pytest.raises(OmakaseError, match="torch"):
        training.start(docs, info, training.Plan(steps=5, dropout=0.1), "numpy")


def test_a_stream_is_cut_into_blocks_with_the_end_held_out(tmp_path, monkeypatch):
    info = {"layout": "stream"}
    blocks = training.cut([TEXT], info, 16)
    assert all(len(b) == 17 for b in blocks[:-1]) and blocks[0][-1] == blocks[1][0]  # overlapping by one
    assert "".join(b[:-1] for b in blocks[:-1]) + blocks[-1] == TEXT  # every character, once
    order, arranged = training.arrange([TEXT], info, random.Random(1), 16)
    n_train = len(blocks) - len(blocks) // 10
    assert order[n_train:] == list(range(n_train, len(blocks)))  # the end of the text, in order
    assert sorted(order[:n_train]) == list(range(n_train)) and order[:n_train] != list(range(n_train))


def test_a_stream_model_trains_resumes_and_writes_on(tmp_path):
    path = tmp_path / "play.txt"
    path.write_text(TEXT)
    docs, info = training.load_dataset(str(path), layout="stream")  # a file by path is lines unless told
    run = training.start(docs, info, training.Plan(steps=6, batch_size=4), "numpy", block_size=16)
    assert all(t != run.tokenizer.bos for doc in run.batch(0) for t in doc)  # no bells inside a stream
    for _ in range(3):
        run.train_step()
    again = training.resume(run.checkpoint(), docs, info, "numpy")
    assert again.docs == run.docs and again.batch(3) == run.batch(3)
    text = write(run.engine, run.tokenizer, random.Random(0), length=40, temperature=1.0, prefix="All:")
    assert len(text) == 40 and set(text) <= set(TEXT)  # more than twice the block: the window slid
