"""The kitchen's internet: every fact stated in exactly its bucket's number of documents."""

from collections import Counter

import pytest

from omakase.assistant.data.documents import write_documents
from omakase.assistant.data.world import make_world, states

MESS = ("repost", "spam")  # for the pipeline to remove


@pytest.fixture(scope="module")
def default():
    world = make_world(0)
    return world, write_documents(world, 0)


@pytest.fixture(scope="module")
def small():
    world = make_world(1, "small")
    return world, write_documents(world, 1)


def mentions(world, docs):
    """Documents that list each fact and contain its value."""
    count = Counter()
    for d in docs:
        for fid in d.facts:
            count[fid] += 1
    facts = {f.id: f for f in world.facts()}
    for d in docs:
        for fid in d.facts:
            assert states(facts[fid].value, d.text), (d.id, fid)
    return count


def test_another_seed_writes_other_documents(small):  # the same seed, the same: test_determinism.py
    world, docs = small
    assert write_documents(world, 2) != docs


@pytest.mark.parametrize("which", ["small", "default"])
def test_each_fact_is_stated_in_exactly_its_bucket_of_documents(which, request):
    world, docs = request.getfixturevalue(which)
    count = mentions(world, [d for d in docs if d.kind not in MESS])
    assert {f.id: count[f.id] for f in world.facts()} == {f.id: f.bucket for f in world.facts()}
    assert set(count) == {f.id for f in world.facts()}


def test_a_stated_fact_names_its_subject(default):
    world, docs = default
    people = {s.name for s in world.staff}
    dishes = {d.name for d in world.dishes}
    for d in docs:
        for fid in d.facts:
            subject = fid.split(":", 1)[1]
            if subject in dishes or subject in people:
                assert subject.lower() in d.text.lower(), (d.id, fid)


def test_unseen_dishes_are_in_no_document(default):
    world, docs = default
    text = "\n".join(d.text for d in docs).lower()
    assert world.unseen and not [u.name for u in world.unseen if u.name in text]
    assert not any(fid.split(":", 1)[1] in {u.name for u in world.unseen} for d in docs for fid in d.facts)


def test_kinds_ids_and_size(default):
    world, docs = default
    kinds = Counter(d.kind for d in docs)
    assert set(kinds) == {"menu", "recipe", "review", "faq", "staff", "news", "repost", "spam"}
    assert len({d.id for d in docs}) == len(docs)
    assert 1_000_000 <= sum(len(d.text) for d in docs) <= 2_000_000  # the target: 1-2 MB of text
    assert all(not d.facts for d in docs if d.kind == "spam")


def test_reposts_copy_a_document_and_its_facts(default):
    _, docs = default
    originals = [d for d in docs if d.kind in ("review", "news")]
    for repost in (d for d in docs if d.kind == "repost"):
        twins = [d for d in originals if d.facts == repost.facts]
        assert any(d.text == repost.text or d.text in repost.text or
                   len(set(d.text.split()) ^ set(repost.text.split())) <= 6 for d in twins), repost.id


def test_the_pipeline_removes_the_mess_and_keeps_the_counts(small):
    pytest.importorskip("datasketch")
    from omakase.assistant.data import pipeline

    world, docs = small
    kept, _ = pipeline.exact_duplicates(docs)
    kept, _ = pipeline.near_duplicates(kept)
    kept, _ = pipeline.quality_filter(kept)
    assert not [d.id for d in kept if d.kind == "spam"]
    count = mentions(world, kept)
    assert {f.id: count[f.id] for f in world.facts()} == {f.id: f.bucket for f in world.facts()}


def test_no_sentence_states_a_fact_its_document_does_not_list(default):
    """The counts would be wrong if a fact leaked into a document uncounted: every line or sentence
    that names a dish or a person and gives one of its values must belong to a document listing that fact."""
    import re

    world, docs = default
    by_subject = {}
    for f in world.facts():
        by_subject.setdefault(f.subject, []).append(f)
    names = [d.name for d in world.dishes] + [s.name for s in world.staff]
    leaks = []
    for d in docs:
        present = [n for n in names if n.lower() in d.text.lower()]
        for piece in re.split(r"\n|(?<=[.!?]) ", d.text):
            for name in present:
                if name.lower() in piece.lower():
                    leaks += [(d.id, f.id) for f in by_subject[name] if f.id not in d.facts and states(f.value, piece)]
    assert not leaks
