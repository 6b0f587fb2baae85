"""Exact reproduction of Karpathy's microgpt: the same losses, step for step, and the same names."""

import json
from pathlib import Path

import pytest

from omakase import train as training
from omakase.engines import ENGINES, engine_class
from omakase.errors import OmakaseError
from omakase.sample import cook

FIRST_20 = [3.3660, 3.4243, 3.1778, 3.0664, 3.2209, 2.9452, 3.2894, 3.3245, 2.8990, 3.2229,
            2.7964, 2.9345, 3.0544, 3.0905, 3.0651, 2.7337, 2.8839, 2.8977, 2.7073, 2.7453]
NAMES = ["kamon", "ann", "karai", "jaire", "vialan", "karia", "yeran", "anna", "areli", "kaina",
         "konna", "keylen", "liole", "alerin", "earan", "lenne", "kana", "lara", "alela", "anton"]
# All 1,000 losses printed by the reference script (microgpt.py, seed 42, names.txt), to 4 decimals.
REFERENCE_LOSSES = Path(__file__).with_name("data") / "reference_losses.json"


def reference_run(engine: str) -> training.Run:
    docs, info = training.load_dataset(None)
    return training.start(docs, info, training.Plan(steps=1000, seed=42), engine)


def test_first_20_steps_match_the_reference():
    run = reference_run("scalar")
    losses = [round(run.train_step()[0], 4) for _ in range(20)]
    assert losses == FIRST_20


@pytest.mark.slow
@pytest.mark.parametrize("engine", list(ENGINES))
def test_all_1000_steps_and_the_20_names_match_the_reference(engine):
    try:
        engine_class(engine)
    except OmakaseError as e:
        pytest.skip(str(e))
    run = reference_run(engine)
    losses = [f"{run.train_step()[0]:.4f}" for _ in range(1000)]
    assert losses == json.loads(REFERENCE_LOSSES.read_text())
    assert losses[-1] == "2.6497"
    assert cook(run.engine, run.tokenizer, run.rng(), 20, 0.5) == NAMES
