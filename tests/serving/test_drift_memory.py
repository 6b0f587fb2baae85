"""Drift: new documents cost more until a short fine-tune; the laminated book needs less memory."""

import pytest

from omakase import checkpoint
from omakase.errors import OmakaseError
from omakase.serving import drift, frozen, memory


@pytest.fixture(scope="module")
def served(target_ckpt):
    return frozen.laminate(target_ckpt, "float32")


def test_reversed_records_keep_their_bells_and_letters():
    assert drift.reversed_docs([[26, 4, 12, 12, 0, 26]]) == [[26, 0, 12, 12, 4, 26]]


def test_fine_tuning_on_drift_lowers_its_loss_and_the_reopened_book_loads(served, tmp_path):
    m, reopened = drift.measure(served, steps=30, every=10, docs=200)
    (_, old0, new0), (_, old1, new1) = m.rows[0], m.rows[-1]
    assert new0 > old0  # the backwards records are news to Ming
    assert new1 < new0  # and a night of study helps
    assert [row[0] for row in m.rows] == [0, 10, 20, 30]
    checkpoint.save(reopened, tmp_path / "reopened.json")
    again = frozen.laminate(tmp_path / "reopened.json")
    assert again.checkpoint.run["fine_tuned"]["steps"] == 30


def test_drift_reads_a_file_of_new_documents(served, tmp_path):
    new = tmp_path / "new.txt"
    new.write_text("\n".join(["zyx", "qqq", "xoxo", "kwz"] * 10) + "\n")
    lists, what = drift.new_documents(served, new)
    assert len(lists) == 40 and what == str(new)
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(["ÆØÅ"] * 30) + "\n")
    with pytest.raises(OmakaseError, match="vocabulary"):
        drift.new_documents(served, bad)


def test_training_needs_more_memory_than_serving(served):
    m = memory.measure(served, batch=16)
    serve, train = m.rows
    assert train[3] == 4 * serve[3]  # dials vs dials, gradients and Adam's two moments
    assert train[2] > serve[2]
