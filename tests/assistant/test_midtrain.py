"""Mid-training: generated conversations of every skill, held out by item, between the base model and SFT."""

import re

import pytest

pytest.importorskip("torch")

from omakase.assistant.data import bills, labelers  # noqa: E402
from omakase.assistant.skills import thinking, tools, working_memory  # noqa: E402
from omakase.assistant.stages import midtrain  # noqa: E402
from omakase.config import GPTConfig  # noqa: E402
from omakase.engines.torch import init_gpt  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402
from omakase.plan import nanogpt_plan  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py
BLOCK = 256  # the tiny BPE of the tests (60 merges) spells a card and a search result in many pieces


@pytest.fixture(scope="module")
def library(small_world):
    from omakase.assistant.data.documents import write_documents
    from omakase.assistant.skills.search import search_tool

    return search_tool([d.text for d in write_documents(small_world, 0)], max_chars=240)


@pytest.fixture(scope="module")
def data(small_world, small_bpe, library):
    return midtrain.midtrain_conversations(small_world, small_bpe, BLOCK, per_skill=60, library_search=library,
                                           closed_book=60)


def test_every_skill_is_there_and_fits_the_block(data, small_bpe):
    assert set(data["counts"]) == set(midtrain.SKILLS) and all(n > 0 for n in data["counts"].values())
    assert sum(data["counts"].values()) == len(data["train"]) + len(data["val"])
    assert all(thinking.length(c, small_bpe) <= BLOCK for c in data["train"] + data["val"])


def test_nothing_measured_is_taught(data, small_world):
    everything = data["train"] + data["val"]
    said = " ".join(m["content"] for c in everything for m in c)
    held_words = {q.word for q in thinking.letter_questions(small_world, held_out=True)}
    spelled = {re.search(r"word (\w+)|in (\w+)\?", c[0]["content"]).group(1) or
               re.search(r"word (\w+)|in (\w+)\?", c[0]["content"]).group(2)
               for c in everything if c[1]["content"].startswith("Letters:")}
    assert spelled and not spelled & held_words
    measured = [d.name for d in working_memory.invented_dishes(small_world, working_memory.MEASURED_DISHES)]
    assert not any(name in said for name in measured + sorted(bills.measured_dishes(small_world)))
    asked = {tuple(sorted(re.findall(r"\d+(?:\.\d+)?", c[0]["content"]))) for c in everything
             if c[1]["content"].endswith("is bigger.")}
    assert asked and not asked & {tuple(sorted((q.a, q.b))) for q in thinking.comparison_questions(held_out=True)}
    facts = labelers.fact_questions(small_world)
    kept_back = {q.fact_id.split(":", 1)[1] for q in facts.held_out + facts.probe}  # their subjects
    searched = [c[0]["content"] for c in everything if c[1]["content"].startswith(tools.SEARCH)]
    assert not any(subject in question for question in searched for subject in kept_back)
    taught = {tuple(sorted((c, p) for c, _, p in b.items)) for b in bills.bill_questions(small_world)}
    for c in (c for c in everything if c[1]["content"].startswith(tools.CALC)):  # training bills, maybe shortened
        items = tuple(sorted((int(n), int(p)) for n, p in re.findall(r"(\d) (?:[a-z ]+ )?(?:at |\()\$(\d+)", c[0]["content"])))
        assert items in taught


def test_recall_asks_taught_facts_in_new_words_and_answers_from_memory(small_world):
    import random

    asked = midtrain.closed_book_conversations(small_world, 0, 50, random.Random(0))
    facts = labelers.fact_questions(small_world)
    kept_back = {q.fact_id.split(":", 1)[1] for q in facts.held_out + facts.probe}
    assert len(asked) == 50 and not any(s in c[0]["content"] for c in asked for s in kept_back)
    assert not any(c[1]["content"].startswith((tools.SEARCH, tools.CALC)) for c in asked)  # no tool: from memory
    values = {f.value.split(", ")[0] for f in small_world.facts()}
    assert all(any(v in c[1]["content"] for v in values) for c in asked)  # each reply states a value
    assert midtrain.closed_book_conversations(small_world, 0, 0, random.Random(0)) == []


def test_the_code_conversations_are_few_shot_and_never_in_the_kitchen_code(data, small_world):
    codes = [c for c in data["train"] + data["val"] if c[0]["content"].startswith("Code: the ")]
    assert len(codes) == data["counts"]["codes"] and all(len(c) >= 4 for c in codes)  # examples, then more
    invented = {d.name: d for d in working_memory.practice_dishes(small_world, midtrain.invented_dishes_drawn(60))}
    for conversation in codes:
        for ask, said in zip(conversation[0::2], conversation[1::2]):
            dish = invented[ask["content"].removeprefix("Code: the ").rsplit(",", 1)[0]]  # mid-training's own dishes
            assert not working_memory.is_right_code(dish, said["content"])


def test_cards_and_searches_are_answered_from_what_the_model_reads(data):
    """The price, town or cook a reply names is on the card in the question, or in the search's result."""
    def named(reply):
        return set(re.findall(r"\$\d+|\b[A-Z][a-z]+\b", reply)) - {"The", "It", "They", "That", "You", "On", "We"}

    carded = [c for c in data["train"] if "\n" in c[0]["content"] and not c[1]["content"].startswith("Letters")]
    searched = [c for c in data["train"] if c[1]["content"].startswith(tools.SEARCH)]
    assert carded and searched
    for c in carded:
        card, question = c[0]["content"].rsplit("\n", 1)
        assert re.match(r"The ([a-z ]+?) (?:cost|is|are|come)", card).group(1) in question
        assert all(word in card for word in named(c[1]["content"]))
    for c in searched:
        result = c[1]["content"].split(tools.RESULT)[1].split(tools.RESULT_END)[0]
        assert all(word in result for word in named(c[1]["content"].split(tools.RESULT_END)[1]))
    assert sum(bool(named(c[1]["content"].split(tools.RESULT_END)[1])) for c in searched) > len(searched) // 3


def test_half_the_cards_ask_for_the_list_and_some_searches_are_in_the_library(data, small_world):
    carded = [c for c in data["train"] + data["val"] if "\n" in c[0]["content"]
              and not c[1]["content"].startswith("Letters")]
    listed = sum(" in it." in c[1]["content"] or " made with " in c[1]["content"] for c in carded)
    assert 0.35 < listed / len(carded) < 0.65  # LIST_SHARE = 0.5; a uniform fifth would be about 0.2
    invented = {d.name for d in working_memory.practice_dishes(small_world, 120)}
    searched = [c[0]["content"] for c in data["train"] + data["val"] if c[1]["content"].startswith(tools.SEARCH)]
    in_library = [q for q in searched if not any(name in q for name in invented)]
    assert in_library and len(in_library) < len(searched)


def test_the_library_searches_sft_tools_adds_ask_only_taught_facts_and_read_the_answer(small_world, library):
    import random

    asked = midtrain.library_search_conversations(small_world, 0, library, 40, random.Random("sft-tools|0"))
    assert 0 < len(asked) <= 40 and all(c[1]["content"].startswith(tools.SEARCH) for c in asked)
    facts = labelers.fact_questions(small_world)
    kept_back = {q.fact_id.split(":", 1)[1] for q in facts.held_out + facts.probe}
    assert not any(subject in c[0]["content"] for c in asked for subject in kept_back)
    assert {c[0]["content"] for c in asked} - {q.text for q in facts.train}  # new words, not only the taught ones


def test_sft_tools_adds_searches_about_invented_dishes_that_mid_training_and_sft_cards_never_use(small_world, library):
    from omakase.assistant.measure import experiments
    from omakase.assistant.measure.build import PRESETS

    preset = PRESETS["quick"]
    added = experiments.sft_tools_conversations(small_world, 0, library, [], preset)
    invented = [turns[0] for kind, turns in added if kind == "search about invented dishes"]
    assert len(invented) > preset.invented_searches // 2  # kept where the result states the answer
    assert all(reply.startswith(tools.SEARCH) for _, reply in invented)
    drawn = 2 * preset.midtrain_per_skill + experiments.INVENTED_CARDS  # mid-training's dishes, then sft-cards'
    earlier = {d.name for d in working_memory.practice_dishes(small_world, drawn)}
    assert not any(name in user for user, _ in invented for name in earlier)


def test_the_tools_results_are_not_trained_and_midtraining_lowers_the_held_out_loss(data, small_world, small_bpe):
    call = next(c for c in data["train"] if c[1]["content"].startswith(tools.CALC))
    r = tools.render_with_tools(call, small_bpe)
    trained = small_bpe.decode([t for t, m in zip(r.ids, r.mask) if m])
    assert tools.RESULT not in trained and tools.CALC in trained
    model = init_gpt(GPTConfig(vocab_size=small_bpe.vocab_size, n_layer=1, n_embd=32, n_head=2, block_size=BLOCK), 0)
    info = midtrain.midtrain(model, small_bpe, small_world, nanogpt_plan(steps=30, batch_size=8, lr=1e-2, warmup=2,
                                                                         eval_every=10, eval_batches=1), per_skill=60)
    val = [loss for _, loss in info["history"]["val"]]
    assert val[-1] < val[0] and info["counts"] == {k: v for k, v in info["counts"].items()}
    with pytest.raises(OmakaseError, match="at least 1 conversation"):
        midtrain.midtrain_conversations(small_world, small_bpe, BLOCK, per_skill=0)


def test_comparisons_can_outnumber_the_other_skills(small_world, small_bpe):
    # copying a number back wants more examples than the other skills: the preset can ask for more of them alone
    more = midtrain.midtrain_conversations(small_world, small_bpe, BLOCK, per_skill=30, comparisons=90)
    assert more["counts"]["comparisons"] > 2 * more["counts"]["spelling"]
    with pytest.raises(OmakaseError, match="at least 1 comparison"):
        midtrain.midtrain_conversations(small_world, small_bpe, BLOCK, per_skill=30, comparisons=0)
