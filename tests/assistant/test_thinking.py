"""Tokens to think: the renderings, the checkers (what "the answer" is), the splits, the block, a tiny model."""

import pytest

torch = pytest.importorskip("torch")

from omakase.assistant.data import bills
from omakase.assistant.skills import chat_format, thinking, tools
from omakase.assistant.measure import evaluate
from omakase.assistant.data.bills import Bill  # noqa: E402
from omakase.assistant.skills.calculator import calculator_tool  # noqa: E402
from omakase.assistant.data.documents import write_documents  # noqa: E402
from omakase.assistant.skills.thinking import Comparison, LetterQuestion  # noqa: E402
from omakase.bpe import BPE  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402

BILL = Bill("b", "How much are 3 miso soups ($12 each) and 2 eel bowls ($7 each)?",
            ((3, "miso soup", 12), (2, "eel bowl", 7)),
            50, "3*12+2*7", "That comes to $50.", "")
THREE = Bill("c", "And 1 tart ($9)?", ((3, "miso soup", 12), (2, "eel bowl", 7), (1, "tart", 9)), 59, "3*12+2*7+1*9",
             "That is $59 in all.", "")
BERRY = LetterQuestion("l", "How many r's are in strawberry?", "strawberry", "r", 3)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_both_bill_styles_state_the_same_steps_in_opposite_orders():
    assert thinking.bill_reply(BILL, "answer-first") == "That comes to $50. 3 x 12 = 36, 2 x 7 = 14, 36 + 14 = 50."
    assert thinking.bill_reply(BILL, "work-first") == "3 x 12 = 36. 2 x 7 = 14. 36 + 14 = 50. That comes to $50."
    assert thinking.working(THREE)[-2:] == ["36 + 14 = 50", "50 + 9 = 59"]  # one sum per step, never three at once
    convs = thinking.bill_conversations([BILL, THREE], "work-first")
    assert [c[0]["content"] for c in convs] == [BILL.text, THREE.text]
    assert all(thinking.is_right_bill(b, c[1]["content"], "work-first") for b, c in zip([BILL, THREE], convs))
    with pytest.raises(OmakaseError, match="unknown bill style 'middle'"):
        thinking.bill_reply(BILL, "middle")


def test_the_answer_is_what_each_style_commits_to():
    # answer-first commits before its working: a right working after a wrong total is still wrong
    late = "That comes to $49. 3 x 12 = 36, 2 x 7 = 14, 36 + 14 = 50."
    assert not thinking.is_right_bill(BILL, late, "answer-first") and thinking.is_right_bill(BILL, late, "work-first")
    assert thinking.is_right_bill(BILL, "That comes to $50. 3 x 12 = 35, 2 x 7 = 14, 35 + 14 = 49.", "answer-first")
    # work-first ends on its answer: a wrong last number is wrong whatever came before
    assert not thinking.is_right_bill(BILL, "3 x 12 = 36. 2 x 7 = 14. 36 + 14 = 50. That comes to $51.", "work-first")
    assert not thinking.is_right_bill(BILL, "A lot.", "answer-first")
    assert thinking.committed_total("A lot.", "work-first") is None


def test_tokens_before_the_answer_count_the_pieces_before_its_first_digit(small_bpe):
    first = thinking.bill_reply(BILL, "answer-first")
    assert thinking.tokens_before_answer(first, small_bpe, "answer-first") == len(small_bpe.encode("That comes to $"))
    last = thinking.bill_reply(BILL, "work-first")
    before = last[:last.rindex("50")]
    assert thinking.tokens_before_answer(last, small_bpe, "work-first") == len(small_bpe.encode(before))
    assert thinking.tokens_before_answer(last, small_bpe, "work-first") > len(small_bpe.encode("That comes to $"))
    assert [thinking.token_bin(n) for n in (0, 7, 8, 31, 32, 200)] == ["0-7", "0-7", "8-15", "16-31", "32-63", "64+"]


def test_bill_results_group_by_tokens_and_dishes(small_bpe):
    said = ["That comes to $50. 3 x 12 = 36, 2 x 7 = 14, 36 + 14 = 50.", "That is $60 in all. 50 + 9 = 59."]
    got = thinking.bill_results([BILL, THREE], said, small_bpe, "answer-first")
    assert got["all"].share == 0.5 and got["all"].n == 2
    assert got["by_items"][2].share == 1.0 and got["by_items"][3].share == 0.0
    assert got["work_right"].share == 1.0  # both workings end on the right total
    assert sum(r.n for r in got["by_tokens"].values()) == 2
    work = thinking.bill_results([BILL, THREE], [thinking.bill_reply(b, "work-first") for b in (BILL, THREE)], small_bpe,
                                 "work-first")
    assert work["all"].share == 1.0 and "work_right" not in work
    pooled = thinking.pooled_by_tokens({"answer-first": got, "work-first": work})
    assert sum(r.n for r in pooled.values()) == 4
    with pytest.raises(OmakaseError, match="2 bills but 1 replies"):
        thinking.bill_results([BILL, THREE], said[:1], small_bpe, "work-first")


def test_letter_replies_spell_tally_and_call_the_calculator():
    assert thinking.spelled(BERRY) == "s t r=1 a w b e r=2 r=3 y"
    assert thinking.letter_reply(BERRY, "direct") == "The letter r appears 3 times."
    assert thinking.letter_reply(BERRY, "spelled") == ("Letters: s t r=1 a w b e r=2 r=3 y. "
                                                       "The letter r appears 3 times.")
    assert thinking.letter_reply(BERRY, "calculator") == (  # the tool reads the letters the model cannot see
        "<|calc|>count(strawberry, r)<|/calc|><|result|>3<|/result|>The letter r appears 3 times.")
    none = LetterQuestion("z", "", "miso", "x", 0)
    assert thinking.letter_reply(none, "spelled").endswith("x appears 0 times.") and "=" not in thinking.spelled(none)
    assert thinking.is_right_count(BERRY, "Letters: s t r=1 a w b e r=2 r=3 y. The letter r appears 3 times.")
    assert not thinking.is_right_count(BERRY, "s t r=1 a w b e r=2 y. So 2.")
    assert not thinking.is_right_count(BERRY, "Three.")
    with pytest.raises(OmakaseError, match="unknown letter style"):
        thinking.letter_reply(BERRY, "python")


def test_the_calculator_style_trains_the_call_and_not_its_result(small_bpe):
    r = tools.render_with_tools(thinking.letter_conversations([BERRY], "calculator")[0], small_bpe)
    trained = small_bpe.decode([t for t, m in zip(r.ids, r.mask) if m])
    assert trained == "<|calc|>count(strawberry, r)<|/calc|>The letter r appears 3 times.<|end|>"


def test_letter_questions_are_true_short_held_out_by_word_and_balanced_by_count(small_world):
    train, held = thinking.letter_questions(small_world), thinking.letter_questions(small_world, held_out=True)
    assert (len(train), len(held)) == thinking.N_LETTERS and not {q.word for q in train} & {q.word for q in held}
    assert {q.word for q in train + held} <= set(thinking.letter_words(small_world))
    for q in train + held:
        assert q.count == q.word.count(q.letter) and q.letter in q.text and q.word in q.text
        assert 3 <= len(q.word) <= thinking.MAX_LETTERS and " " not in q.word
        assert calculator_tool(f"count({q.word}, {q.letter})") == str(q.count)
    for questions in (train, held):  # a constant "1" is right a third of the time, not most of it
        assert [sum(min(q.count, 2) == c for q in questions) for c in (0, 1, 2)] == [len(questions) // 3] * 3
    measured = evaluate.evenly(held, 200)  # what a build measures: still every class, about a third each
    assert all(55 <= sum(min(q.count, 2) == c for q in measured) <= 78 for c in (0, 1, 2))
    assert {"bowl", "emma", "olivia"} <= set(thinking.letter_words(small_world))  # the kitchen's words and Ming's records'
    assert thinking.letter_questions(small_world, seed=1) == thinking.letter_questions(small_world, seed=1)
    assert len(thinking.letter_questions(small_world, n=7)) == 7
    with pytest.raises(OmakaseError, match="n must be at least 1"):
        thinking.letter_questions(small_world, n=0)


def test_letter_results_compare_with_always_saying_one():
    qs = [LetterQuestion("o", "", "bowl", "o", 1), LetterQuestion("e", "", "eel", "e", 2)]
    got = thinking.letter_results(qs, ["The letter o appears 1 time.", "The letter e appears 1 time."])
    assert got["all"].share == 0.5 and got["always_one"].share == 0.5
    assert got["by_count"]["2"].share == 0.0 and got["by_count"]["1"].share == 1.0


def test_comparisons_have_a_right_answer_a_trap_and_a_held_out_side():
    train, held = thinking.comparison_questions(n=90), thinking.comparison_questions(n=30, held_out=True)
    key = lambda q: frozenset((q.a, q.b))  # noqa: E731
    assert not {key(q) for q in train} & {key(q) for q in held} and len({key(q) for q in train}) == 90
    for q in train + held:
        assert q.bigger in (q.a, q.b) and float(q.bigger) == max(float(q.a), float(q.b)) and q.a in q.text
        wa, da = q.a.split(".")
        wb, db = q.b.split(".")
        if q.kind == "same whole, trap":  # the decimals read as whole numbers point at the smaller one
            assert wa == wb and (int(da) > int(db)) != (float(q.a) > float(q.b))
        elif q.kind == "same whole, no trap":
            assert wa == wb and (int(da) > int(db)) == (float(q.a) > float(q.b))
        else:
            assert wa != wb
    assert {q.kind for q in train} == set(thinking.COMPARE_KINDS)
    q = Comparison("x", "Which is bigger, 9.11 or 9.9?", "9.11", "9.9", "9.9", "same whole, trap")
    assert thinking.is_right_comparison(q, "9.9 is bigger than 9.11.")
    assert thinking.is_right_comparison(q, "9.90 is bigger.")
    assert not thinking.is_right_comparison(q, "9.11 is bigger than 9.9.")
    assert not thinking.is_right_comparison(q, "Neither.")


def test_the_padded_style_lines_the_decimals_up_before_it_answers():
    q = Comparison("x", "Which is bigger, 9.11 or 9.9?", "9.11", "9.9", "9.9", "same whole, trap")
    assert thinking.comparison_reply(q, "padded") == "9.11 vs 9.90: 11 < 90, so 9.9 is bigger."
    wholes = Comparison("y", "", "12.5", "9.75", "12.5", "different whole")
    assert thinking.comparison_reply(wholes, "padded") == "12.50 vs 9.75: 12 > 9, so 12.5 is bigger."
    # padded picks its last number, direct its first: the same reply read by the other style's rule is wrong
    said = thinking.comparison_reply(q, "padded")
    assert thinking.is_right_comparison(q, said, "padded") and not thinking.is_right_comparison(q, said, "direct")
    with pytest.raises(OmakaseError, match="unknown comparison style"):
        thinking.comparison_reply(q, "longer")


def test_comparisons_are_grouped_by_how_the_bpe_cuts_them():
    small_bpe = BPE.train(" 9.11 9.9" * 50, 256 + 5 + 2, specials=chat_format.SPECIALS)  # 2 merges: " 9" and "11"
    assert [small_bpe.piece(t) for t in small_bpe.encode("11")] == [b"11"] and len(small_bpe.encode("57")) == 2
    trap = Comparison("x", "", "9.11", "9.9", "9.9", "same whole, trap")
    group = thinking.tokenization_group(trap, small_bpe)
    assert group["decimals"] == "each decimal part one piece" and group["cut"] == " 9|.|11 vs  9|.|9"
    split = Comparison("y", "", "9.57", "9.9", "9.9", "same whole, trap")
    assert thinking.tokenization_group(split, small_bpe) == {"pieces": "different number of pieces",
                                                         "decimals": "a decimal part split",
                                                         "cut": " 9|.|5|7 vs  9|.|9"}
    got = thinking.comparison_results([trap, split], ["9.9 is bigger.", "9.57 is bigger."], small_bpe)
    assert got["names_one"].share == 1.0
    assert thinking.comparison_results([trap], ["31.3 is bigger."], small_bpe)["names_one"].share == 0.0
    assert got["by_decimals"]["each decimal part one piece"].share == 1.0
    assert got["by_decimals"]["a decimal part split"].share == 0.0 and got["all"].n == 2
    assert set(got["by_kind_and_pieces"]) == {"same whole, trap / same number of pieces",
                                             "same whole, trap / different number of pieces"}


def test_fitting_keeps_only_questions_every_variant_fits(small_bpe):
    convs = {s: thinking.bill_conversations([BILL, THREE], s) for s in thinking.BILL_STYLES}
    lengths = [max(thinking.length(c[i], small_bpe) for c in convs.values()) for i in range(2)]
    assert lengths[0] != lengths[1]
    shorter = [BILL, THREE][lengths.index(min(lengths))]
    assert thinking.fitting([BILL, THREE], convs, small_bpe, max(lengths)) == ([BILL, THREE], 0)
    assert thinking.fitting([BILL, THREE], convs, small_bpe, max(lengths) - 1) == ([shorter], 1)
    with pytest.raises(OmakaseError, match="has 1 conversations for 2 questions"):
        thinking.fitting([BILL, THREE], {"x": convs["work-first"][:1]}, small_bpe, 128)


def test_experiments_fit_the_quick_block(small_world):
    text = "\n".join(d.text for d in write_documents(small_world, 0))
    quick = BPE.train(text, 512, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)  # the quick preset's tokenizer size
    got = thinking.experiments(small_world, quick, 96, n_bills=150, n_comparisons=(60, 30), short_bills=True)
    styles_of = {"bills": thinking.BILL_STYLES, "letters": thinking.LETTER_STYLES,
                 "comparisons": thinking.COMPARE_STYLES}
    for name, styles in styles_of.items():
        e = got[name]
        assert e["held_out"] and set(e["sft"]) == set(styles)
        if name != "letters":  # as many were drawn as asked; the ones kept and the ones dropped make them up
            assert len(e["train"]) + e["dropped"]["train"] == {"bills": 150, "comparisons": 60}[name]
        for convs in e["sft"].values():
            assert len(convs) == len(e["train"]) and max(thinking.length(c, quick) for c in convs) <= 96
    assert all(b.text.startswith("What do ") and "$" in b.text for b in got["bills"]["held_out"])

    # practice's start, sft-choose: sft-work's bills and comparisons, and each training word's count taught one
    # way, half of the words answered at once and half spelled out first (two ways for practice to choose from)
    from omakase.assistant.measure.experiments import choose_conversations

    chosen = choose_conversations(got)
    letters = [turns[0] for kind, turns in chosen if kind == "letters"]
    by_word = {q.text: q.word for q in got["letters"]["train"]}
    spelled = {by_word[user] for user, reply in letters if reply.startswith(thinking.SPELLED_START)}
    at_once = {by_word[user] for user, reply in letters if not reply.startswith(thinking.SPELLED_START)}
    assert not spelled & at_once and len(spelled | at_once) == len(got["letters"]["train"])
    assert abs(len(spelled) - len(at_once)) <= 1
    assert sum(kind == "bill" for kind, _ in chosen) == len(got["bills"]["sft"]["work-first"])


def test_a_few_sft_steps_on_comparisons_lower_their_held_out_loss_and_the_measures_run(small_world, small_bpe):
    from omakase.engines.torch import init_gpt
    from omakase.model import held_out_loss
    from omakase.plan import nanogpt_plan
    from omakase.assistant.stages.sft import examples, finetune
    from omakase.config import GPTConfig

    train, held = thinking.comparison_questions(n=60), thinking.comparison_questions(n=8, held_out=True)
    m = init_gpt(GPTConfig(vocab_size=small_bpe.vocab_size, n_layer=1, n_embd=32, n_head=2,
                                            block_size=128), 0)
    asked = examples(thinking.comparison_conversations(held), small_bpe, 128)
    before = held_out_loss(m, [(asked.inputs, asked.targets)])
    finetune(m, small_bpe, thinking.comparison_conversations(train), [],
             nanogpt_plan(steps=12, batch_size=8, lr=5e-3, warmup=2, eval_every=12, eval_batches=1))
    assert held_out_loss(m, [(asked.inputs, asked.targets)]) < before - 0.5  # pairs never trained on
    got = thinking.measure_comparisons(m, small_bpe, held[:2])
    assert got["all"].n == 2 and sum(r.n for r in got["by_pieces"].values()) == 2
    few = bills.bill_questions(small_world, n=1, held_out=True, show_prices=True)
    assert len(thinking.measure_bills(m, small_bpe, few, "work-first")["tokens_before"]) == 1
    counted = thinking.measure_letters(m, small_bpe, thinking.letter_questions(small_world, held_out=True)[:1], "calculator")
    assert counted["all"].n == 1


def test_practice_bills_fit_the_block_and_fall_back_to_the_short_question(small_world, small_bpe):
    roomy = thinking.practice_bills(small_world, small_bpe, 512)
    assert roomy and all("$" in b.text and " at $" not in b.text for b in roomy)  # the full questions fit
    tight = thinking.practice_bills(small_world, small_bpe, 96)
    assert tight and all(b.text.startswith("What do ") and " at $" in b.text for b in tight)  # counts and prices only
    conversation = thinking.bill_conversations(tight[:1], "work-first")[0]
    assert thinking.length(conversation, small_bpe) <= 96
