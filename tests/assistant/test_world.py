"""The restaurant world: seeded, evenly bucketed, with unseen dishes apart; `states` is the one matcher."""

from collections import Counter

import pytest

from omakase.assistant.data.world import BUCKETS, make_world, states
from omakase.errors import OmakaseError


def test_another_seed_makes_another_world():  # the same seed, the same world: test_determinism.py
    assert make_world(3).dishes != make_world(4).dishes


def test_default_size_buckets_are_even():
    world = make_world(0)
    assert len(world.dishes) == 160 and len(world.unseen) == 60
    assert Counter(d.bucket for d in world.dishes) == {b: 40 for b in BUCKETS}
    facts = world.facts()
    assert len({f.id for f in facts}) == len(facts)
    assert {f.bucket for f in facts} == set(BUCKETS)
    assert {f.bucket for f in world.unseen_facts()} == {0}


def test_dishes_are_well_formed_and_names_never_overlap():
    world = make_world(1)
    staff = {s.name for s in world.staff}
    for d in world.dishes + world.unseen:
        assert 2 <= len(d.ingredients) <= 4 and len(set(d.ingredients)) == len(d.ingredients)
        assert 4 <= d.price <= 60 and d.chef in staff and d.name == d.name.lower()
        assert not (set(d.ingredients) | {d.course}) & set(d.name.split())  # not readable off the name
    names = [d.name for d in world.dishes + world.unseen]
    assert len(set(names)) == len(names)
    assert not any(a != b and a in b for a in names for b in names)
    assert world.master == world.staff[0].name and world.staff[0].role == "master chef"


@pytest.mark.parametrize("kwargs", [{"size": "huge"}, {"dishes": 2}, {"staff": 1}, {"unseen": -1}])
def test_bad_sizes_are_one_clear_error(kwargs):
    with pytest.raises(OmakaseError):
        make_world(0, **kwargs)


@pytest.mark.parametrize("value, text, expected", [
    ("14", "The bowl costs $14.", True),
    ("14", "It is $14.00 tonight.", True),
    ("14", "It costs $140.", False),
    ("14", "It costs $41.", False),
    ("140", "It costs $14.", False),
    ("Hana Mori", "hana mori cooks it", True),
    ("main", "one of the mains", False),
    ("main", "It is a main.", True),
    ("leek, barley, mint", "Mint, barley and leek.", True),
    ("leek, barley, mint", "leek and barley", False),
    ("5 pm to 11 pm", "We are open 5 pm to 11 pm.", True),
    ("5 pm to 11 pm", "We are open 5 pm to 10 pm.", False),
])
def test_states(value, text, expected):
    assert states(value, text) is expected
