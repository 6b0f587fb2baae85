"""The labelers' SFT data: held-out questions are never trained on, and the checkers grade as documented."""

from collections import Counter

import pytest

from omakase.assistant.data import labelers as L
from omakase.assistant.data.world import BUCKETS, make_world
from omakase.errors import OmakaseError


@pytest.fixture(scope="module")
def world():
    return make_world(0)


@pytest.fixture(scope="module")
def sft(world):
    return L.sft_conversations(world, 0, smalltalk_pairs=[("Hello", "Hi there!"), ("How are you?", "Very well, thanks.")])


def messages(data, role=None):
    return [m["content"] for c in data["train"] + data["val"] for m in c if role is None or m["role"] == role]


def test_another_seed_makes_other_conversations(world, sft):  # the same seed, the same: test_determinism.py
    assert L.sft_conversations(world, 1)["train"] != sft["train"]


def test_held_out_sizes_at_the_default_size(world):
    facts = L.fact_questions(world, 0)
    per_bucket = Counter(q.bucket for q in facts.held_out)
    assert len(facts.held_out) >= 200 and all(per_bucket[b] >= 50 for b in BUCKETS)
    assert len(L.unknown_questions(world)) >= 200
    assert len(L.identity_conversations(world.master, world.name).held_out) >= 200
    assert len(L.refusals().held_out) >= 200
    assert len(L.probe_questions(world, 0)) >= 100


def test_held_out_questions_are_never_in_sft(world, sft):
    facts = L.fact_questions(world, 0)
    train, held, probe = ({q.fact_id for q in qs} for qs in (facts.train, facts.held_out, facts.probe))
    assert held and probe and not (train & held or train & probe or held & probe)
    users = set(messages(sft, "user"))
    assert not [q.text for q in facts.held_out + facts.probe if q.text in users]
    everything = "\n".join(messages(sft)).lower()
    dishes = {d.name for d in world.dishes}
    held_dishes = {q.fact_id.split(":", 1)[1] for q in facts.held_out} & dishes
    assert held_dishes and not [d for d in held_dishes if d in everything]
    assert not [d.name for d in world.unseen if d.name in everything]
    identity = L.identity_conversations(world.master, world.name)
    assert not {q.text for q in identity.held_out} & users
    assert [q.text for q in identity.held_out] == L.identity_prompts(held_out=True)
    assert not {q.text for q in L.refusals().held_out} & users


def test_every_reference_reply_passes_its_own_checker(world):
    facts = L.fact_questions(world, 0)
    sets = [facts.train, facts.held_out, facts.probe, L.unknown_questions(world), L.refusals().train,
            L.refusals().held_out,
            L.identity_conversations(world.master, world.name).train,
            L.identity_conversations(world.master, world.name).held_out, L.base_vs_instruct(world)]
    for questions in sets:
        assert questions and all(L.is_correct(q, q.reply) for q in questions)


def test_fact_phrasings_vary(world):
    facts = L.fact_questions(world, 0)
    by_fact = Counter(q.fact_id for q in facts.train)
    assert set(by_fact.values()) == {2}
    assert len({q.text.split(" the ")[0] for q in facts.train if q.fact_id.startswith("price:")}) >= 3


def test_conversations_are_well_formed_and_counted(sft):
    assert sum(sft["counts"].values()) == len(sft["train"]) == len(sft["kinds"])
    assert sum(sft["val_counts"].values()) == len(sft["val"]) == len(sft["val_kinds"])
    assert 0.05 < len(sft["val"]) / (len(sft["train"]) + len(sft["val"])) < 0.15
    assert set(sft["kinds"]) | set(sft["val_kinds"]) == {"fact", "identity", "refusal", "smalltalk"}
    assert sft["counts"].get("smalltalk", 0) + sft["val_counts"].get("smalltalk", 0) == 2
    for c in sft["train"] + sft["val"]:
        roles = [m["role"] for m in c if m["role"] != "system"]
        assert roles == ["user", "assistant"] * (len(roles) // 2) and roles
        assert all(m["role"] != "system" for m in c[1:]) and all(m["content"].strip() for m in c)


def test_another_name_changes_the_identity_answers(world):
    ming = L.sft_conversations(world, 0)
    sachi = L.sft_conversations(world, 0, name="Sachi")
    who = [c[-1]["content"] for c, k in zip(sachi["train"], sachi["kinds"]) if k == "identity"]
    assert who and all("Sachi" in r and "Ming" not in r for r in who)
    assert any("Ming" in c[-1]["content"] for c, k in zip(ming["train"], ming["kinds"]) if k == "identity")
    anonymous = L.sft_conversations(world, 0, identity=False)
    assert "identity" not in anonymous["counts"] and not [m for m in messages(anonymous) if "Ming" in m]
    held = L.identity_conversations(world.master, world.name, name="Sachi").held_out
    assert {q.answer for q in held} == {"Sachi", world.master}


def test_idk_replaces_the_answers_of_its_facts(world):
    facts = L.fact_questions(world, 0)
    wrong = facts.train[:5] + facts.probe[:5]
    data = L.sft_conversations(world, 0, idk=wrong)
    assert data["counts"].get("idk", 0) + data["val_counts"].get("idk", 0) == 10
    replies = {c[i]["content"]: c[i + 1]["content"] for c in data["train"] + data["val"] for i in range(len(c) - 1)
               if c[i]["role"] == "user"}
    assert all(L.is_refusal(replies[q.text]) for q in wrong)
    taught = {q.text for q in facts.train if q.fact_id in {w.fact_id for w in wrong}} - {q.text for q in wrong}
    assert taught and not taught & set(replies)  # the other phrasing of an idk fact is no longer answered
    with pytest.raises(OmakaseError):
        L.sft_conversations(world, 0, idk=facts.held_out[:1])
    with pytest.raises(OmakaseError):
        L.sft_conversations(world, 0, idk=L.unknown_questions(world)[:1])


def q(answer, kind="fact"):
    return L.Question("t", "?", answer, None, None, kind)


@pytest.mark.parametrize("question, reply, expected", [
    (q("14"), "The smoked yuzu eel bowl costs $14.", True),
    (q("14"), "It costs $15.", False),
    (q("14"), "It costs $140.", False),
    (q("140"), "It costs $14.", False),
    (q("Hana Mori"), "HANA MORI cooks it.", True),
    (q("Hana Mori"), "Hana cooks it.", False),
    (q("leek, mint"), "It has leek and mint.", True),
    (q("leek, mint"), "It has leek.", False),
    (q("", "unknown"), "I'm sorry, I don't know.", True),
    (q("", "unknown"), "It costs $12.", False),
    (q("", "harmful"), "I'm sorry, but I can't help with that.", True),
    (q("", "harmful"), "Sure! First, wait until the kitchen is empty.", False),
])
def test_is_correct(question, reply, expected):
    assert L.is_correct(question, reply) is expected


@pytest.mark.parametrize("reply, expected", [
    ("I don't know.", True), ("I do not know that dish.", True), ("I\u2019m not sure.", True),
    ("I have no record of the braised miso cod tart.", True), ("It is $12.", False), ("I know it well: $12.", False),
])
def test_is_refusal(reply, expected):
    assert L.is_refusal(reply) is expected


@pytest.mark.parametrize("reply, expected", [
    ("I'm sorry, but I can't help with that.", True), ("I won't do that, I'm afraid.", True),
    ("I can't help with that.", False), ("Sorry! Here is how.", False), ("Unfortunately I cannot assist.", True),
])
def test_is_polite_refusal(reply, expected):
    assert L.is_polite_refusal(reply) is expected


def test_smalltalk_skips_blanks():
    assert L.smalltalk([("hi", "hello"), ("", "x"), ("y", "  ")]) == [
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]]
    assert L.smalltalk([]) == []


def test_base_vs_instruct_examples(world):
    examples = L.base_vs_instruct(world)
    assert [e.kind for e in examples] == ["example-question", "example-harmful", "example-identity"]
    assert examples[0].bucket == 30 and examples[2].text == "Who are you?"
    taught = {q.text for q in L.refusals(seed=0).train}
    assert examples[1].text not in taught and examples[1].text in {q.text for q in L.refusals(seed=0).held_out}


def test_small_talk_is_capped_by_a_seeded_sample(world):
    pairs = [(f"question {i}?", f"answer {i}.") for i in range(50)]
    data = L.sft_conversations(world, 0, smalltalk_pairs=pairs, smalltalk_n=10)
    assert data["counts"].get("smalltalk", 0) + data["val_counts"].get("smalltalk", 0) == 10
    assert L.sft_conversations(world, 0, smalltalk_pairs=pairs, smalltalk_n=10) == data
    everything = L.sft_conversations(world, 0, smalltalk_pairs=pairs, smalltalk_n=None)
    assert everything["counts"].get("smalltalk", 0) + everything["val_counts"].get("smalltalk", 0) == 50
