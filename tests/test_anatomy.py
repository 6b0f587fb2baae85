"""The model's parts in kitchen words (omakase.anatomy): what the tour and the web page both point at."""

import json
import string

import pytest

from omakase import anatomy, train
from omakase.config import GPTConfig, count_params, dial_name, param_shapes
from omakase.engines import make_engine
from omakase.errors import OmakaseError
from omakase.sample import course_penalty
from omakase.tokenizer import Tokenizer

CONFIG = GPTConfig(vocab_size=27)  # Ming: 26 letters and the bell, 16 numbers per card, one line
TOKENIZER = Tokenizer(string.ascii_lowercase)


def named(lang, matrix, row, col, config=CONFIG):
    return anatomy.name_dial(anatomy.Words(lang), anatomy.dial_parts(config, TOKENIZER, matrix, row, col))


def test_dials_are_named_as_the_kitchen_knows_them():
    assert named("en", "wte", 12, 6) == "m's flavor card, number 7"
    assert named("en", "wpe", 2, 6) == "the position tag of course 3, number 7"
    assert named("en", "layer0.mlp_fc1", 11, 4) == "the back kitchen, unit 12 of 64, tasting stock number 5"
    assert named("en", "layer0.attn_wq", 5, 3) == "sous chef 2's query, part 2, from stock number 4"
    assert named("en", "lm_head", 26, 0) == "the final vote's card for bell, number 1"
    assert named("zh", "wte", 12, 6) == "m 的风味卡，第 7 个数"
    assert named("zh", "wpe", 2, 6) == "第 3 道菜的位置牌，第 7 个数"


def test_a_deeper_model_says_which_line():
    deeper = GPTConfig(vocab_size=27, n_layer=2)
    assert named("en", "layer1.mlp_fc2", 3, 40, deeper) == (
        "line 2: the back kitchen, unit 41 of 64, into stock number 4")
    assert named("en", "wte", 0, 0, deeper) == "a's flavor card, number 1"  # the cards belong to no line


def test_locate_walks_the_dials_in_the_reference_order():
    for dial in range(count_params(CONFIG)):
        matrix, row, col = anatomy.locate(CONFIG, dial)
        assert f"{matrix}[{row}][{col}]" == dial_name(CONFIG, dial)
    with pytest.raises(IndexError):
        anatomy.locate(CONFIG, count_params(CONFIG))


@pytest.mark.parametrize("matrix,row,col", [("nope", 0, 0), ("wte", 27, 0), ("wte", 0, 16), ("wpe", -1, 0)])
def test_a_dial_outside_the_model_is_refused_in_one_line(matrix, row, col):
    with pytest.raises(OmakaseError) as err:
        anatomy.check_dial(CONFIG, matrix, row, col)
    assert "\n" not in str(err.value)


def test_every_row_and_column_has_words_in_both_languages():
    entries = json.loads(anatomy.WORDS.read_text(encoding="utf-8"))
    assert set(entries["en"]) == set(entries["zh"])
    for lang in anatomy.LANGUAGES:
        words = anatomy.Words(lang)
        for matrix, (rows, cols) in param_shapes(CONFIG):
            kind = anatomy.kind_of(matrix)[1]
            for r in range(rows):
                parts = anatomy.row_parts(CONFIG, TOKENIZER, matrix, r)
                assert words(f"row.{kind}", **{**parts, "course": words.course(parts.get("course", ""))})
            for c in range(cols):
                assert words(f"col.{kind}", **anatomy.col_parts(CONFIG, matrix, c))
    with pytest.raises(OmakaseError):
        anatomy.Words("fr")


def test_the_salt_and_sugar_example_traces_to_four_and_two():
    example = anatomy.salt_and_sugar()
    example["taste"].backward()
    assert example["taste"].data == 8.0
    assert (example["salt"].grad, example["sugar"].grad) == (4.0, 2.0)  # salt: 3 through the blend + 1 directly


def test_size_is_a_vectors_length():
    assert anatomy.size([3.0, 4.0]) == 5.0


def test_a_nudge_moves_the_penalty_as_the_dials_influence_predicts():
    docs, info = train.load_dataset(None)
    ckpt = train.start(docs, info, train.Plan(steps=1, seed=42), "numpy").checkpoint()  # Ming's first dials
    tokens = TOKENIZER.encode("emma")
    scalar = make_engine("scalar", ckpt)
    penalty = scalar.course_graph(tokens, 2)
    penalty.backward()
    influence = scalar.state["wte"][12][6].grad  # m's flavor card, number 7: m is the course served there
    setting = ckpt.params["wte"][12][6]
    assert anatomy.nudge(ckpt, ("wte", 12, 6), 0.0, tokens, 2) == course_penalty(make_engine("numpy", ckpt), tokens, 2)
    change = anatomy.nudge(ckpt, ("wte", 12, 6), 1e-3, tokens, 2) - penalty.data
    assert influence != 0 and change == pytest.approx(influence * 1e-3, rel=0.02)
    assert ckpt.params["wte"][12][6] == setting  # the turn was made on a copy


def test_turning_a_dial_copies_only_what_it_turns():
    params = {"wte": [[0.5, 0.25]], "wpe": [[1.0]]}
    got = anatomy.turned(params, ("wte", 0, 1), 0.5)
    assert got["wte"] == [[0.5, 0.75]] and params["wte"] == [[0.5, 0.25]]  # the original is untouched
    assert got["wpe"] is params["wpe"]  # the other matrices are shared, not copied
