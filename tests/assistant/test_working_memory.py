"""Knowledge vs working memory: fact cards, conflicting cards, the kitchen code, what fits the block."""

import random
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")

from omakase.assistant.skills import chat_format, working_memory, tools
from omakase.assistant.data import labelers
from omakase.engines.torch import init_gpt
from omakase.assistant.data.documents import write_documents  # noqa: E402
from omakase.assistant.data.world import Dish, dish_facts, make_world, states  # noqa: E402
from omakase.bpe import BPE  # noqa: E402
from omakase.config import GPTConfig  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def world():
    return make_world(0, "small")


@pytest.fixture(scope="module")
def documents(world):
    return write_documents(world, 0)


@pytest.fixture(scope="module")
def bpe(documents):
    """The quick preset's tokenizer: 512 tokens trained on the small world's documents."""
    return BPE.train("\n".join(d.text for d in documents), 512, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)


@pytest.fixture(scope="module")
def questions(world):
    return labelers.fact_questions(world, 0)


def dish_question(questions, attribute):
    return next(q for q in questions.held_out if q.fact_id.startswith(attribute + ":"))


class Parrot:
    """A stand-in engine that answers the i-th prompt it is given with texts[i] (then <|end|>), whatever it reads."""

    def __init__(self, texts, bpe, block=128):
        self.config = SimpleNamespace(block_size=block, n_layer=1, n_head=1, head_dim=1, n_embd=1)
        self.texts = [bpe.encode(t) + [bpe.special[chat_format.END]] for t in texts]
        self.vocab, self.turn, self.i = bpe.vocab_size, -1, 0

    def new_cache(self, batch=1):
        return None

    def logits_cached(self, cache, rows, pos, every=False):
        if pos == 0:  # a new prompt
            self.turn, self.i = self.turn + 1, 0
        script = self.texts[self.turn]
        logits = [0.0] * self.vocab
        logits[script[min(self.i, len(script) - 1)]] = 10.0
        self.i += 1
        return [logits]


# -- cards --

def test_a_dish_card_states_every_fact_and_names_the_dish_once(world):
    dish = world.dishes[0]
    card = working_memory.card_text(working_memory.subject_facts(world, dish.name))
    assert all(states(f.value, card) for f in working_memory.subject_facts(world, dish.name))
    assert card.count(dish.name) == 1 and card.startswith(f"The {dish.name}")
    staff = world.staff[1]
    staff_card = working_memory.card_text(working_memory.subject_facts(world, staff.name))
    assert states(staff.role, staff_card) and states(str(staff.years), staff_card) and states(staff.specialty, staff_card)
    assert states(world.rules["corkage"], working_memory.card_text(working_memory.subject_facts(world, "corkage")))
    with pytest.raises(OmakaseError, match="not a dish"):
        working_memory.subject_facts(world, "boiled nothing soup")


def test_a_changed_card_states_the_new_value_not_the_true_one(world, questions):
    q = dish_question(questions, "price")
    value = working_memory.conflict_value(q, world, seed=3)
    assert value == working_memory.conflict_value(q, world, seed=3) and value != q.answer  # seeded per fact
    prompt = working_memory.card_prompt(q, world, value=value)
    card, asked = prompt.rsplit("\n", 1)
    assert asked == q.text and states(value, card) and not states(q.answer, card)


def test_changed_values_never_state_or_are_stated_by_the_truth(world):
    rng = random.Random(0)
    for fact in world.facts():
        value = working_memory.changed_value(fact, world, rng)
        assert not states(value, fact.value) and not states(fact.value, value), fact.id


def test_a_card_drops_other_facts_until_it_fits_but_keeps_the_asked_one(world, questions, bpe):
    q = dish_question(questions, "chef")
    full = working_memory.card_prompt(q, world)
    fitted = working_memory.card_prompt(q, world, bpe, 80)
    need = len(chat_format.render([{"role": "user", "content": fitted}], bpe, reply=True).ids) + len(bpe.encode(q.reply)) + 1
    assert len(fitted) < len(full) and need <= 80 and states(q.answer, fitted.rsplit("\n", 1)[0])
    with pytest.raises(OmakaseError, match="bigger block_size") as e:
        working_memory.card_prompt(q, world, bpe, 20)
    assert "\n" not in str(e.value)
    assert working_memory.card_questions([q], world, bpe, 20) == []


def test_only_fact_questions_get_cards(world):
    unknown = labelers.unknown_questions(world)[0]
    with pytest.raises(OmakaseError, match="not a fact question"):
        working_memory.card_prompt(unknown, world)


# -- SFT cards --

def test_card_conversations_keep_measured_subjects_out_and_answer_from_the_card(world, questions, bpe):
    out = working_memory.card_conversations(world, bpe, 96, seed=0, n=60)
    assert out["counts"]["invented"] + out["counts"]["true"] + out["too_long"] == 60
    assert len(out["train"]) == len(out["kinds"]) == len(out["questions"]) == 60 - out["too_long"] < 60
    measured = {q.fact_id.split(":", 1)[1] for q in questions.held_out + questions.probe}
    known = {d.name for d in world.dishes + world.unseen}
    truth = {f.id: f.value for f in world.facts()}
    for conversation, kind, q in zip(out["train"], out["kinds"], out["questions"]):
        card, asked = conversation[0]["content"].rsplit("\n", 1)
        subject = q.fact_id.split(":", 1)[1]
        assert subject not in measured and asked == q.text
        assert (subject not in known) if kind == "invented" else (truth[q.fact_id] == q.answer)
        assert states(q.answer, card) and states(q.answer, conversation[1]["content"])
        assert len(chat_format.render(conversation, bpe).ids) <= 96


def test_changed_training_cards_teach_the_prompt_wins(world, bpe):
    out = working_memory.card_conversations(world, bpe, 128, seed=1, n=20, invented_share=0.0, changed_share=1.0)
    assert out["counts"] == {"changed": 20}
    truth = {f.id: f.value for f in world.facts()}
    for conversation, q in zip(out["train"], out["questions"]):
        card, reply = conversation[0]["content"].rsplit("\n", 1)[0], conversation[1]["content"]
        assert states(q.answer, card) and states(q.answer, reply)
        assert not states(truth[q.fact_id], card) and not states(truth[q.fact_id], reply)
    with pytest.raises(OmakaseError, match="changed_share"):
        working_memory.card_conversations(world, bpe, 96, changed_share=1.5)


def test_invented_dishes_are_in_no_document(world, documents):
    invented = working_memory.invented_dishes(world, 30, seed=0)
    with pytest.raises(OmakaseError, match="invented dishes"):
        working_memory.invented_dishes(world, -1)
    assert len({d.name for d in invented}) == 30
    assert not {d.name for d in invented} & {d.name for d in world.dishes + world.unseen}
    text = "\n".join(d.text for d in documents)
    assert not any(d.name in text for d in invented)


# -- the kitchen code --

def test_the_kitchen_code_on_a_hand_computed_case():
    assert working_memory.kitchen_code("smoked yuzu eel bowl", 14) == "14 bowl eel yuzu smoked"
    dish = Dish("smoked yuzu eel bowl", ("leek",), 14, "main", "Upwell", "Kenji Mori", 1)
    assert working_memory.is_right_code(dish, "14 bowl eel yuzu smoked")
    assert working_memory.is_right_code(dish, "The code is 14 Bowl Eel Yuzu Smoked.")
    assert not working_memory.is_right_code(dish, "14 smoked yuzu eel bowl")  # the name forwards
    assert not working_memory.is_right_code(dish, "140 bowl eel yuzu smoked")
    assert not working_memory.is_right_code(dish, "bowl eel yuzu smoked")
    with pytest.raises(OmakaseError, match="empty"):
        working_memory.kitchen_code("  ", 3)


def test_the_code_is_trained_nowhere(world, documents, bpe):
    codes = [working_memory.kitchen_code(d.name, d.price) for d in world.dishes]
    assert not any(states(c, d.text) for d in documents for c in codes)
    sft = labelers.sft_conversations(world, 0)["train"] + working_memory.card_conversations(world, bpe, 128, n=40)["train"]
    said = [m["content"] for c in sft for m in c]
    assert not any(states(c, s) for s in said for c in codes)


def test_the_code_family_on_hand_computed_cases():
    assert working_memory.family_code("smoked yuzu eel bowl", 14, (1, 0, 2, 3), False) == "yuzu smoked eel bowl 14"
    assert working_memory.family_code("smoked yuzu eel bowl", 14, (3, 2, 1, 0), True) == "14 bowl eel yuzu smoked"
    with pytest.raises(OmakaseError, match="each of the 4 words once"):
        working_memory.family_code("smoked yuzu eel bowl", 14, (0, 0, 1, 2), True)
    siblings = working_memory.sibling_codes()
    assert len(siblings) == 2 * (24 - 1) and len(set(siblings)) == len(siblings)
    assert all(order != (3, 2, 1, 0) for order, _ in siblings)  # the kitchen code's word order is no sibling's


def test_sibling_code_conversations_keep_one_code_and_never_the_kitchen_codes_order(world, bpe):
    dishes = working_memory.invented_dishes(world, 30, seed="siblings")
    conversations = working_memory.sibling_code_conversations(dishes, bpe, 256, 40, seed=1)
    assert len(conversations) == 40
    by_name = {d.name: d for d in dishes}
    codes_used = set()
    for conversation in conversations:
        assert len(chat_format.render(conversation, bpe).ids) <= 256 and len(conversation) >= 2
        asked = [by_name[m["content"].removeprefix("Code: the ").rsplit(",", 1)[0]] for m in conversation[0::2]]
        replies = [m["content"] for m in conversation[1::2]]
        fits = [c for c in working_memory.sibling_codes()
                if all(working_memory.family_code(d.name, d.price, *c) == r for d, r in zip(asked, replies))]
        assert fits  # every reply of a conversation is in one sibling code
        codes_used.add(fits[0])
        assert not any(working_memory.is_right_code(d, r) for d, r in zip(asked, replies))
        backwards = [" ".join(d.name.split()[::-1]) for d in asked]
        assert not any(b in r for b, r in zip(backwards, replies))  # nor back to front with the price last
    assert len(codes_used) > 10  # a new code each conversation
    with pytest.raises(OmakaseError, match="at least 5 dishes"):
        working_memory.sibling_code_conversations(dishes[:4], bpe, 256, 3)


def test_every_token_of_a_code_is_a_token_of_its_prompt(world, bpe):
    for examples, query in working_memory.code_tasks(world, 10, seed=0):
        prompt = chat_format.render(working_memory.code_conversation(examples[:1], query), bpe, reply=True).ids
        assert set(bpe.encode(working_memory.kitchen_code(query.name, query.price))) <= set(prompt)


def test_code_tasks_are_nested_and_never_show_the_query(world):
    tasks = working_memory.code_tasks(world, 40, seed=2)
    assert len(tasks) == 40 and all(len(ex) == 4 and q not in ex for ex, q in tasks)
    assert {q.name for _, q in tasks} == {d.name for d in world.dishes}  # the queries go round the dishes
    conversation = working_memory.code_conversation(tasks[0][0][:2], tasks[0][1])
    assert [m["role"] for m in conversation] == ["user", "assistant", "user", "assistant", "user"]
    with pytest.raises(OmakaseError, match="dishes"):
        working_memory.code_tasks(make_world(0, "small", dishes=4), 3, k=4)
    with pytest.raises(OmakaseError, match="n >= 1"):
        working_memory.code_tasks(world, 0)


# -- what fits the block --

def test_the_cpu_preset_fits_full_cards_and_four_examples():
    """The cpu preset's sizes: the default world, a 2048-token BPE on its documents, 128 tokens."""
    big = make_world(0, "default")
    docs = write_documents(big, 0)
    bpe = BPE.train("\n".join(d.text for d in docs), 2048, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)
    lengths = working_memory.longest_prompts(bpe, big, n=100)
    assert lengths["card"] <= 128 and lengths["code"][4] <= 128
    assert lengths["bare"] < lengths["card"] and lengths["code"][0] < lengths["code"][1] < lengths["code"][4]


def test_the_quick_preset_caps_k(world, bpe):
    tasks = working_memory.code_tasks(world, 40)
    k = working_memory.largest_k(bpe, 96, tasks)
    assert 0 <= k < 4 and all(working_memory.code_task_length(bpe, ex[:k], q) <= 96 for ex, q in tasks)
    bigger = min(x for x in working_memory.KS if x > k)
    assert any(working_memory.code_task_length(bpe, ex[:bigger], q) > 96 for ex, q in tasks)


# -- the measurements, end to end --

def test_conflicts_tell_the_prompt_from_the_weights(world, questions, bpe):
    asked = working_memory.card_questions([q for q in questions.held_out if q.fact_id.startswith("price:")][:4], world, bpe, 128)
    changed = [working_memory.conflict_value(q, world) for q in asked]
    seen = {q.fact_id: 10 for q in asked}
    cases = {"weights": [f"It costs ${q.answer}." for q in asked], "prompt": [f"It costs ${v}." for v in changed],
             "both": [f"${v} or ${q.answer}." for q, v in zip(asked, changed)],
             "neither": ["I'm sorry, I don't know."] * len(asked)}
    for expected, texts in cases.items():
        out = working_memory.conflicts(Parrot(texts, bpe), bpe, world, asked, seen, known=[True, False] + [True] * (len(asked) - 2))
        assert out[expected].share == 1.0 and out[expected].n == len(asked), expected
        assert sum(out[k].share for k in ("prompt", "weights", "both", "neither")) == pytest.approx(1.0)
        assert out["by_seen"][10][expected].n == len(asked) and out["when_known"]["prompt"].n == len(asked) - 1
    with pytest.raises(OmakaseError, match="known has"):
        working_memory.conflicts(Parrot(cases["prompt"], bpe), bpe, world, asked, seen, known=[True])


def test_the_card_measurement_counts_right_answers_both_ways(world, questions, bpe):
    asked = working_memory.card_questions(questions.held_out[:6], world, bpe, 128)
    seen = {q.fact_id: 3 for q in asked}
    texts = [q.reply for q in asked] + ["I don't know."] * len(asked)  # bare: the labelers' reply; carded: a shrug
    out = working_memory.with_and_without_card(Parrot(texts, bpe), bpe, world, asked, seen)
    assert out["without"]["all"].share == 1.0 and out["with"]["all"].share == 0.0
    assert out["gain"]["difference"] == -1.0 and out["gain"]["n"] == len(asked)
    assert out["with"]["all"].n == len(asked) and out["with"]["by_seen"][3].n == len(asked)


def test_in_context_scores_each_k_on_the_same_queries(world, bpe):
    tasks = working_memory.code_tasks(world, 5, seed=0)
    right = [working_memory.kitchen_code(q.name, q.price) for _, q in tasks]
    ks = (0, 1)
    out = working_memory.in_context(Parrot(right * len(ks), bpe, block=96), bpe, world, n=5, ks=ks)
    assert [out["by_k"][k].share for k in ks] == [1.0, 1.0] and out["by_k"][1].n == 5 and out["too_long"] == []
    wrong = [f"{q.price} {q.name}" for _, q in tasks]
    out = working_memory.in_context(Parrot(wrong * len(ks), bpe, block=96), bpe, world, n=5, ks=ks)
    assert out["by_k"][0].share == 0.0 and out["examples"][1]["code"] == right[0]
    with pytest.raises(OmakaseError, match="worked examples"):
        working_memory.in_context(Parrot(wrong, bpe), bpe, world, n=5, ks=(0, -1))


def test_the_measurements_run_on_a_tiny_untrained_model(world, questions, bpe):
    config = GPTConfig(vocab_size=bpe.vocab_size, n_layer=1, n_embd=32, n_head=2, block_size=96)
    tiny = init_gpt(config, 0).eval()
    asked = working_memory.card_questions(questions.held_out[:2], world, bpe, 96)
    seen = {q.fact_id: 1 for q in asked}
    cards = working_memory.with_and_without_card(tiny, bpe, world, asked, seen)
    assert cards["with"]["all"].n == cards["without"]["all"].n == len(asked) > 0
    clash = working_memory.conflicts(tiny, bpe, world, asked, seen, known=cards["without"]["right"])
    assert clash["prompt"].n == len(asked) and 0.0 <= clash["neither"].share <= 1.0
    icl = working_memory.in_context(tiny, bpe, world, n=2)
    cap = working_memory.largest_k(bpe, 96, working_memory.code_tasks(world, 2))
    assert sorted(icl["by_k"]) == [k for k in working_memory.KS if k <= cap] and icl["too_long"] == [k for k in working_memory.KS if k > cap]
    assert all(r.n == 2 for r in icl["by_k"].values())


def test_reading_measures_invented_dishes_the_card_sft_never_showed(world, bpe):
    trained = {d.name for d in working_memory.invented_dishes(world, 30, seed=0)}
    measured = working_memory.invented_dishes(world, 30 + 6, seed=0)[30:]
    assert not trained & {d.name for d in measured}
    answers = []
    rng = random.Random("reading:0")
    for dish in measured:  # the questions `reading` asks, rebuilt to script the right replies
        own = dish_facts(dish)
        answers.append(labelers.question(rng.choice(own), world, rng, "reading").reply)
    out = working_memory.reading(Parrot(answers, bpe), bpe, world, n=6, seed=0, skip=30)
    assert out["all"].share == 1.0 and out["all"].n == 6
    out = working_memory.reading(Parrot(["I don't know."] * 6, bpe), bpe, world, n=6, seed=0, skip=30)
    assert out["all"].share == 0.0 and sum(r.n for r in out["by_attribute"].values()) == 6
    with pytest.raises(OmakaseError, match="skip"):
        working_memory.reading(Parrot([], bpe), bpe, world, n=0)
