"""The pretraining pipeline on small documents whose duplicates and spam are known by construction."""

import random
from dataclasses import dataclass

import pytest

from omakase.assistant.data.documents import Document
from omakase.assistant.data.pipeline import (exact_duplicates, fact_mentions, near_duplicates, quality_filter,
                                        real_text_documents, run_pipeline, split_by_document)
from omakase.errors import OmakaseError


@dataclass(frozen=True)
class Doc:
    """The shape of documents.py's Document, so these tests do not depend on it."""
    id: str
    kind: str
    text: str
    facts: tuple = ()


VOCAB = ("kitchen knife rice broth miso ginger chef table order plate bowl salt sugar fish tuna "
         "pepper garlic onion noodle steam grill smoke sauce tea cup spoon bread oven flame ash").split()


def prose(seed: int, n_words: int = 100) -> str:
    """n seeded random words in sentences: two seeds share almost no word 5-gram."""
    rng = random.Random(seed)
    words = [rng.choice(VOCAB) for _ in range(n_words)]
    return " ".join(w + ("." if i % 10 == 9 else "") for i, w in enumerate(words))


def test_exact_duplicates_ignore_case_and_whitespace():
    text = prose(1)
    docs = [Doc("a", "review", text), Doc("b", "review", text.upper()),
            Doc("c", "review", "  " + text.replace(" ", " \n\t ")), Doc("d", "review", prose(2))]
    kept, removed = exact_duplicates(docs)
    assert [d.id for d in kept] == ["a", "d"]
    assert removed == {"b": "exact duplicate of a", "c": "exact duplicate of a"}


def test_one_changed_word_is_a_near_duplicate_and_different_documents_stay():
    pytest.importorskip("datasketch")
    original = prose(1).split(" ")
    changed = list(original)
    changed[50] = "zebra"  # one word of 100 changed: about 90% of the word 5-grams are shared
    docs = [Doc("first", "menu", " ".join(original)), Doc("other", "menu", prose(2)),
            Doc("copy", "menu", " ".join(changed)), Doc("third", "faq", prose(3))]
    kept, removed = near_duplicates(docs, seed=0)
    assert [d.id for d in kept] == ["first", "other", "third"]
    assert list(removed) == ["copy"] and removed["copy"].startswith("near duplicate of first")


def test_every_copy_with_a_changed_word_is_found_deterministically():
    pytest.importorskip("datasketch")
    docs = []
    for i in range(60):  # 20 texts, then each twice more with one word of 100 changed (Jaccard 0.90)
        words = prose(i % 20).split(" ")
        if i >= 20:
            words[random.Random(i).randrange(100)] = "zebra"
        docs.append(Doc(f"d{i}", "menu", " ".join(words)))
    kept, removed = near_duplicates(docs, seed=1)
    assert [d.id for d in kept] == [f"d{i}" for i in range(20)]
    assert all(removed[f"d{i}"].startswith(f"near duplicate of d{i % 20} ") for i in range(20, 60))
    assert near_duplicates(docs, seed=1) == (kept, removed)


@pytest.mark.parametrize("text, reason", [
    ("Buy now!", "too short"),
    ("$$$ 100% OFF!!! ### 5.99 $$$ >>> 1-800-555-0199 <<< *** $4.99 *** $3.99 === #1 #2 #3 ~~~ x y z", "mostly symbols"),
    ("Cheap pills delivered fast to your door\n" * 6 + "Order the ramen broth tonight at our kitchen", "repeated lines"),
    ("cheap " * 20 + "ramen broth miso ginger chef table", "one word repeated"),
])
def test_spam_is_rejected_with_its_reason(text, reason):
    good = Doc("good", "review", prose(1))
    kept, removed = quality_filter([Doc("spam", "review", text), good])
    assert kept == [good]
    assert removed == {"spam": reason}


def test_split_keeps_documents_whole_and_every_kind_in_both():
    docs = [Doc(f"{kind}:{i}", kind, prose(i + 100 * k)) for k, kind in enumerate(("menu", "faq", "news"))
            for i in range(10 if kind != "news" else 2)]
    train, val = split_by_document(docs, val_fraction=0.1, seed=7)
    assert sorted(d.id for d in train + val) == sorted(d.id for d in docs)  # each document once, whole
    assert set(map(id, train)).isdisjoint(map(id, val)) and all(d in docs for d in train + val)
    assert {d.kind for d in train} == {d.kind for d in val} == {"menu", "faq", "news"}
    assert [d.kind for d in val].count("menu") == 1  # round(10 * 0.1)
    other = split_by_document(docs, val_fraction=0.1, seed=8)
    assert [d.id for d in other[1]] != [d.id for d in val]


def test_a_kind_with_one_document_goes_to_train():
    train, val = split_by_document([Doc("x", "solo", "text")], val_fraction=0.5)
    assert [d.id for d in train] == ["x"] and val == []


def test_pipeline_counts_add_up():
    pytest.importorskip("datasketch")
    base = [Doc(f"menu:{i}", "menu", prose(i), facts=(f"dish{i}",)) for i in range(12)]
    dups = [Doc("menu:dup", "menu", prose(0).upper(), facts=("dish0",)),
            Doc("menu:near", "menu", prose(1).replace("kitchen", "dining room", 1), facts=("dish1",))]
    spam = [Doc("spam:0", "spam", "click here"), Doc("spam:1", "spam", "$$$ ### 100% !!! 42 42 42 ### $$$ 7 7 7 a b c d e f g")]
    docs = base + dups + spam
    rows = []
    result = run_pipeline(docs, seed=0, progress=rows.append)
    steps = {row["step"]: row for row in result.steps}
    assert rows == result.steps
    assert [row["step"] for row in result.steps] == ["input", "exact duplicates", "near duplicates",
                                                     "quality filter", "train", "validation"]
    assert steps["exact duplicates"]["removed"] == 1 and steps["near duplicates"]["removed"] == 1
    assert steps["quality filter"]["removed"] == 2 and result.quality_reasons == {"too short": 1, "mostly symbols": 1}
    for before, after in zip(result.steps[:3], result.steps[1:4]):
        assert after["documents"] == before["documents"] - after["removed"]
    assert steps["train"]["documents"] + steps["validation"]["documents"] + len(result.removed) == len(docs)
    assert steps["input"]["tokens"] == sum(len(d.text) for d in docs)
    assert steps["train"]["tokens"] + steps["validation"]["tokens"] == steps["quality filter"]["tokens"] \
        == sum(len(d.text) for d in result.train + result.val)
    assert fact_mentions(result.train + result.val) == {f"dish{i}": 1 for i in range(12)}


def test_tokens_are_counted_by_the_injected_function():
    pytest.importorskip("datasketch")
    docs = [Doc(f"d{i}", "menu", prose(i)) for i in range(3)]
    by_words = run_pipeline(docs, count_tokens=lambda text: len(text.split()))
    by_encode = run_pipeline(docs, count_tokens=lambda text: text.split())  # like a BPE's encode: ids
    assert by_words.steps == by_encode.steps and by_words.steps[0]["tokens"] == 300


def test_bad_input_is_one_clear_error():
    with pytest.raises(OmakaseError, match="unique"):
        run_pipeline([Doc("a", "menu", "x"), Doc("a", "faq", "y")])
    with pytest.raises(OmakaseError, match="no documents"):
        run_pipeline([])
    with pytest.raises(OmakaseError, match="not a document"):
        run_pipeline(["just a string"])
    with pytest.raises(OmakaseError, match="validation fraction"):
        split_by_document([Doc("a", "menu", "x")], val_fraction=1.5)


SPEECHES = """First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?

All:
Resolved. resolved.
"""


def test_real_text_becomes_documents_of_whole_speeches():
    docs = real_text_documents(SPEECHES, kind="shakespeare", max_chars=80)
    assert [d.id for d in docs] == [f"shakespeare:{i}" for i in range(len(docs))]
    assert all(isinstance(d, Document) and d.kind == "shakespeare" and d.facts == () for d in docs)
    assert [d.text for d in docs] == [
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.",
        "First Citizen:\nYou are all resolved rather to die than to famish?",
        "All:\nResolved. resolved.",
    ]
    assert [d.text for d in real_text_documents(SPEECHES, max_chars=10_000)] == [SPEECHES.strip()]
    with pytest.raises(OmakaseError, match="empty"):
        real_text_documents("\n\n  \n")
