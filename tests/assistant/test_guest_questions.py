"""Guest questions: pretraining pages that ask taught facts in a guest's words, never a held-out one."""

import pytest

from omakase.assistant.data import labelers
from omakase.assistant.data.guest_questions import guest_question_pages
from omakase.assistant.data.world import states
from omakase.errors import OmakaseError


def test_pages_ask_taught_facts_and_answer_them_and_never_a_held_out_one(small_world):
    pages = guest_question_pages(small_world, 30)
    facts = {f.id: f for f in small_world.facts()}
    questions = labelers.fact_questions(small_world)
    taught = {q.fact_id for q in questions.train}
    kept_back = {q.fact_id.split(":", 1)[1] for q in questions.held_out + questions.probe}  # their subjects
    assert len(pages) == 30 and all(d.kind == "questions" and d.facts and set(d.facts) <= taught for d in pages)
    for page in pages:
        lines = page.text.splitlines()[1:]
        asked, answered = lines[0::2], lines[1::2]
        assert len(asked) == len(answered) == len(page.facts)
        assert all(a.startswith("Guest: ") for a in asked) and all(s.startswith("Server: ") for s in answered)
        for fact_id, reply in zip(page.facts, answered):  # each answer states its fact's value
            assert states(facts[fact_id].value, reply)
        assert not any(subject in page.text for subject in kept_back)


def test_pages_are_seeded_and_bad_counts_are_refused(small_world):
    assert guest_question_pages(small_world, 3, seed=1) == guest_question_pages(small_world, 3, seed=1)
    assert guest_question_pages(small_world, 3, seed=1) != guest_question_pages(small_world, 3, seed=2)
    assert guest_question_pages(small_world, 0) == []
    with pytest.raises(OmakaseError, match="n >= 0"):
        guest_question_pages(small_world, -1)
