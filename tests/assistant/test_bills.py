"""Bill questions: exact totals, a held-out side never trained on, and SFT data that teaches the calculator."""

import pytest

from omakase.assistant.data import bills
from omakase.assistant.skills import tools
from omakase.assistant.skills.calculator import calculate
from omakase.assistant.data.world import make_world
from omakase.errors import OmakaseError


@pytest.fixture(scope="module")
def world():
    return make_world(0, "default")


def test_every_total_is_exact_and_the_calculator_agrees(world):
    for b in bills.bill_questions(world, n=100) + bills.bill_questions(world, n=100, held_out=True):
        prices = {d.name: d.price for d in world.dishes}
        assert all(prices[dish] == price and 1 <= count <= bills.MAX_COUNT for count, dish, price in b.items)
        assert b.total == sum(c * p for c, _, p in b.items) and 2 <= len(b.items) <= 3
        assert calculate(b.expression).value == str(b.total)
        assert b.reply_with_calc == tools.call_text("calc", b.expression, str(b.total)) + b.reply
        assert all(dish in b.text for _, dish, _ in b.items) and bills.is_right_total(b, b.reply)


def test_held_out_bills_never_share_a_set_of_dishes_with_training(world):
    train, held = bills.bill_questions(world), bills.bill_questions(world, held_out=True)
    assert len(train) == 600 and len(held) >= 200
    assert not {b.held_out_key for b in train} & {b.held_out_key for b in held}
    assert len({frozenset(b.items) for b in held}) == len(held)  # distinct, whatever the order


def test_bills_asked_from_memory_use_only_the_well_known_dishes_and_are_seeded(world):
    known = {d.name for d in world.dishes if d.bucket in bills.BILL_BUCKETS}
    assert all(dish in known for b in bills.bill_questions(world, n=50, show_prices=False) for _, dish, _ in b.items)
    assert bills.bill_questions(world, seed=3, n=20) != bills.bill_questions(world, seed=4, n=20)


def test_bills_show_their_prices_unless_asked_from_memory(world):
    for b in bills.bill_questions(world, n=20):
        assert all(f"${price}" in b.text for _, _, price in b.items)
    assert not any("$" in b.text for b in bills.bill_questions(world, n=20, show_prices=False))


@pytest.mark.parametrize("show_prices", [True, False])
def test_no_training_bill_names_a_dish_whose_facts_are_measured(world, show_prices):
    from omakase.assistant.data import labelers

    questions = labelers.fact_questions(world)
    asked = {q.fact_id.split(":", 1)[1] for q in questions.held_out}
    assert bills.measured_dishes(world) == asked & {d.name for d in world.dishes} != set()
    named = {dish for b in bills.bill_questions(world, show_prices=show_prices) for _, dish, _ in b.items}
    assert not named & asked
    held_named = {dish for b in bills.bill_questions(world, held_out=True) for _, dish, _ in b.items}
    assert held_named & asked  # held-out bills may name them: nothing is taught from those


def test_the_right_total_is_the_last_number_of_the_reply(world):
    b = bills.bill_questions(world, n=1)[0]
    assert bills.is_right_total(b, f"{b.expression} makes ${b.total:,}.")
    assert not bills.is_right_total(b, f"That is ${b.total} in all, or ${b.total + 1} with the tip.")
    assert not bills.is_right_total(b, f"That is ${b.total + 1}.") and not bills.is_right_total(b, "A lot.")


def test_conversations_teach_the_calculator_or_answer_directly(world):
    few = bills.bill_questions(world, n=3)
    with_calc, direct = bills.bill_conversations(few), bills.bill_conversations(few, calculator=False)
    assert [c[1]["content"].startswith(tools.CALC) for c in with_calc] == [True] * 3
    assert [c[1]["content"] for c in direct] == [b.reply for b in few] and tools.CALC not in str(direct)
    assert [c[0]["content"] for c in with_calc] == [b.text for b in few]


def test_the_calculator_conversations_render_with_results_untrained(world):
    from omakase.assistant.skills import chat_format
    from omakase.bpe import BPE

    b = bills.bill_questions(world, n=1)[0]
    bpe = BPE.train(b.text + b.reply, 256 + 30, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)
    r = tools.render_with_tools(bills.bill_conversations([b])[0], bpe)
    trained = bpe.decode([t for t, m in zip(r.ids, r.mask) if m])
    assert trained == f"{tools.CALC}{b.expression}{tools.CALC_END}{b.reply}{chat_format.END}"


def test_a_world_too_small_for_the_bills_asked_is_one_clear_line():
    small = make_world(0, "small")
    assert len(bills.bill_questions(small, held_out=True, n=50)) == 50
    with pytest.raises(OmakaseError, match="ask for fewer"):
        bills.bill_questions(small, n=100_000)
    with pytest.raises(OmakaseError, match="bills need at least 3"):
        bills.bill_questions(small, buckets=(99,))
    assert len(bills.bill_questions(small, show_prices=False)) < bills.DEFAULT_N[False]  # all a small world holds
    assert len(bills.bill_questions(small, n=100_000, show_prices=False, or_fewer=True)) == len(
        bills.bill_questions(small, show_prices=False))
