"""Small trained Mings for the service tests: a target (2 layers, 32 wide) and a draft (1 layer, 16 wide),
trained for a few hundred mini-batch steps on the shipped names with the numpy engine (seconds)."""

from pathlib import Path

import pytest

pytest.importorskip("torch")

from omakase import checkpoint, train  # noqa: E402


def _trained(folder: Path, name: str, steps: int, **dials) -> Path:
    docs, info = train.load_dataset(None)
    plan = train.Plan(steps=steps, lr=0.01, batch_size=16, seed=7)
    run = train.start(docs, info, plan, "numpy", **dials)
    for _ in range(steps):
        run.train_step()
    path = folder / f"{name}.json"
    checkpoint.save(run.checkpoint(), path)
    return path


@pytest.fixture(scope="session")
def target_ckpt(tmp_path_factory) -> Path:
    return _trained(tmp_path_factory.mktemp("target"), "target", 300, n_layer=2, n_embd=32, n_head=4)


@pytest.fixture(scope="session")
def draft_ckpt(tmp_path_factory) -> Path:
    return _trained(tmp_path_factory.mktemp("draft"), "draft", 300, n_layer=1, n_embd=16, n_head=4)
