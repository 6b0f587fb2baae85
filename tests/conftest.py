import json
from pathlib import Path

import pytest

try:  # `pytest --hypothesis-profile thorough`: the fuzzed CLI (test_cli_fuzz.py) with twenty times the cases
    from hypothesis import settings

    settings.register_profile("thorough", max_examples=2000)
except ImportError:
    pass

REPO = Path(__file__).resolve().parents[1]
REFERENCE_LOSSES = Path(__file__).with_name("data") / "reference_losses.json"

TINY_NAMES = ["ana", "bob", "cara", "dan", "eve", "fay", "gus", "hal", "ida", "jo", "kai", "lea",
              "mia", "ned", "ola", "pia", "quinn", "ray", "sam", "tia", "uma", "vic", "wes", "xia"]


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    """A small dataset the tests make: 24 short names."""
    path = tmp_path / "tiny.txt"
    path.write_text("\n".join(TINY_NAMES) + "\n")
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """Run a CLI test inside an empty folder (so ./runs is fresh)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def names_path() -> Path:
    from omakase import data

    return data.resolve(None)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Models this small gain nothing from intra-op threads, and on a busy machine the threads' spinning
    makes each tiny forward pass many times slower: one thread for the module, then as it was.
    A module asks for it with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def reference_losses() -> list[str]:
    """All 1,000 losses printed by Karpathy's microgpt.py (seed 42, names.txt), to 4 decimals: the one copy."""
    return json.loads(REFERENCE_LOSSES.read_text())
