"""Copy-pressure documents: only their own context predicts what the server says and what the total line repeats."""

import re

import pytest

from omakase.assistant.data import pipeline
from omakase.assistant.data.order_slips import order_slips
from omakase.assistant.data.world import make_world, states
from omakase.errors import OmakaseError


@pytest.fixture(scope="module")
def world():
    return make_world(0, "small")


def test_a_slip_answers_with_values_its_card_states(world):
    slips = [d for d in order_slips(world, 200) if d.kind == "slip"]
    assert len(slips) > 50
    for d in slips:
        card, *talk = d.text.split("\n")
        dish = re.match(r"Order slip\. Today's special is the (.+?)\. ", card).group(1)
        assert 3 <= card.count(". ") <= 5 and len(talk) in (4, 6)  # the special, 3 or 4 facts; 2 or 3 questions
        for question, answer in zip(talk[::2], talk[1::2]):
            assert question.startswith("Guest: ") and dish in question and answer.startswith(f"Server: The {dish} ")
            value = re.search(r"(?:\$|by |from |with )(.+)\.$", answer).group(1)
            assert states(value, card)  # copied from the card, nowhere else


def test_a_receipts_total_line_repeats_every_item_and_adds_them_up(world):
    receipts = [d for d in order_slips(world, 200) if d.kind == "receipt"]
    assert len(receipts) > 30
    for d in receipts:
        items_line, total_line = d.text.split("\n")
        items = re.findall(r"(\d) ([a-z ]+?) at \$(\d+)", items_line)
        assert 2 <= len(items) <= 3
        assert all(f"{c} {dish} at ${p}" in total_line for c, dish, p in items)
        assert total_line.endswith(f": ${sum(int(c) * int(p) for c, _, p in items)}.")


def test_slips_name_no_dish_of_the_world_state_no_fact_and_survive_the_pipeline(world):
    pytest.importorskip("datasketch")  # the pipeline's near-duplicate step
    docs = order_slips(world, 300, seed=1)
    assert docs != order_slips(world, 300, seed=2)
    names = {d.name for d in world.dishes + world.unseen}
    assert all(d.facts == () for d in docs)
    assert not any(name in d.text for d in docs for name in names)
    kept = pipeline.run_pipeline(docs, 0)
    assert len(kept.train) + len(kept.val) == len(docs)  # no slip is a duplicate, too short or symbols
    assert order_slips(world, 0) == []
    with pytest.raises(OmakaseError, match="n >= 0"):
        order_slips(world, -1)
