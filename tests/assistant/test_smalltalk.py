"""Small talk from chatterbot-corpus: pairs in a fixed order, odd entries skipped, a clear error without it."""

import sys

import pytest

from omakase.assistant.data import smalltalk
from omakase.errors import OmakaseError

ODD_FILE = """categories:
- kitchen
conversations:
- - Hello chef
  - Hello apprentice
  - Is the rice ready?
- - 42
  - a number is not a line
  - but this pair is fine
- A bare string is not a conversation
- - Only one line
- - "   "
  - blank lines are skipped
"""


def test_consecutive_lines_make_pairs_and_odd_entries_are_skipped(tmp_path, monkeypatch):
    pytest.importorskip("yaml")
    (tmp_path / "kitchen.yml").write_text(ODD_FILE, encoding="utf-8")
    (tmp_path / "empty.yml").write_text("categories:\n- nothing\n", encoding="utf-8")
    monkeypatch.setattr(smalltalk, "english_files", lambda: sorted(tmp_path.glob("*.yml")))
    assert smalltalk.pairs_by_category() == {
        "nothing": [],
        "kitchen": [("Hello chef", "Hello apprentice"), ("Hello apprentice", "Is the rice ready?"),
                    ("a number is not a line", "but this pair is fine")],
    }
    assert smalltalk.pairs() == smalltalk.pairs_by_category()["kitchen"]


def test_the_english_corpus_gives_many_plain_pairs_in_a_fixed_order():
    pytest.importorskip("chatterbot_corpus")
    pytest.importorskip("yaml")
    assert smalltalk.available()
    found = smalltalk.pairs()
    assert len(found) > 1000
    assert all(isinstance(a, str) and isinstance(b, str) and a and b for a, b in found)
    assert found == smalltalk.pairs()
    by_category = smalltalk.pairs_by_category()
    assert ("Hello", "Hi") in by_category["greetings"]
    assert sum(len(p) for p in by_category.values()) == len(found)


@pytest.mark.parametrize("missing", ["chatterbot_corpus", "yaml"])
def test_without_the_corpus_or_yaml_one_clear_error(monkeypatch, missing):
    if missing == "yaml":
        pytest.importorskip("chatterbot_corpus")  # else the corpus is what is missing
    monkeypatch.setitem(sys.modules, missing, None)  # importing it now raises ImportError
    assert not smalltalk.available()
    with pytest.raises(OmakaseError, match=r"pip install -e \"\.\[assistant\]\""):
        smalltalk.pairs()
