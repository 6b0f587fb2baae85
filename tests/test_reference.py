"""Exact reproduction of Karpathy's microgpt: the same losses, step for step, and the same names."""

import pytest

from omakase import train as training
from omakase.engines import ENGINES, engine_class
from omakase.errors import OmakaseError
from omakase.sample import cook

NAMES = ["kamon", "ann", "karai", "jaire", "vialan", "karia", "yeran", "anna", "areli", "kaina",
         "konna", "keylen", "liole", "alerin", "earan", "lenne", "kana", "lara", "alela", "anton"]


def reference_run(engine: str) -> training.Run:
    docs, info = training.load_dataset(None)
    return training.start(docs, info, training.Plan(steps=1000, seed=42), engine)


def test_first_20_steps_match_the_reference(reference_losses):
    run = reference_run("scalar")
    assert [f"{run.train_step()[0]:.4f}" for _ in range(20)] == reference_losses[:20]


@pytest.mark.slow
@pytest.mark.parametrize("engine", list(ENGINES))
def test_all_1000_steps_and_the_20_names_match_the_reference(engine, reference_losses):
    try:
        engine_class(engine)
    except OmakaseError as e:
        pytest.skip(str(e))
    run = reference_run(engine)
    losses = [f"{run.train_step()[0]:.4f}" for _ in range(1000)]
    assert losses == reference_losses
    assert cook(run.engine, run.tokenizer, run.rng(), 20, 0.5) == NAMES
