"""Tiny Mings for the web kitchen's tests: trained here for a few steps with omakase.train's API."""

from pathlib import Path

import pytest


def _train(steps: int, seed: int, path: Path, **shape) -> Path:
    from omakase import checkpoint, train

    docs, info = train.load_dataset(None)
    run = train.start(docs, info, train.Plan(steps=steps, seed=seed), "numpy", **shape)
    for _ in range(steps):
        run.train_step()
    run.validate(50)
    checkpoint.save(run.checkpoint(), path)
    return path


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """A runs folder holding two small checkpoints: ming-001 (20 steps) and ming-002 (40 steps, another seed)."""
    runs = tmp_path_factory.mktemp("runs")
    _train(20, 42, runs / "ming-001.json")
    _train(40, 7, runs / "ming-002.json")
    return runs
