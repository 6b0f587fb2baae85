"""The calculator sandbox: right on arithmetic, and every hostile expression refused as a result, never raised."""

import ast
import time

import pytest

from omakase.assistant.skills import calculator
from omakase.assistant.skills.calculator import Refused, calculate

RIGHT = [("3*12+2*7", "50"), ("3 × 12 + 2 × 7", "50"), ("84 ÷ 4", "21"), ("10 − 4", "6"), ("(2+3)*4", "20"),
         ("-5+2", "-3"), ("+7", "7"), ("--3", "3"), ("10/4", "2.5"), ("1/3", "0.33"), ("2/3", "0.67"),
         ("1/3*3", "1"), ("0.1+0.2", "0.3"), ("12.50*3", "37.5"), ("2.005", "2.01"), ("-2.005", "-2.01"),
         ("4.5*2", "9"), ("  7 * 6 ", "42"), ("1.", "1"), ("999999*1000000", "999999000000")]

# (expression, a word the refusal must contain): names, attributes, imports, calls, code, huge or deep input...
HOSTILE = [
    ("__import__('os').system('ls')", "names"),
    ("os.system('rm -rf /')", "names"),
    ("().__class__.__bases__[0].__subclasses__()", "names"),
    ("eval('1+1')", "names"),
    ("open('/etc/passwd').read()", "names"),
    ("lambda: 1", "names"),
    ("[x for x in range(10)]", "'['"),
    ("print(1)", "names"),
    ("(1).real", "names"),
    ("'a' * 10", "strings"),
    ('"1" + "2"', "strings"),
    ("b'\\x00'", "names"),
    ("f'{1+1}'", "names"),
    ("(y := 3)", "names"),
    ("1 < 2 < 3", "'<'"),
    ("1 == 1", "'='"),
    ("6 & 3", "'&'"),
    ("1 << 40", "'<'"),
    ("~5", "'~'"),
    ("7 % 2", "'%'"),
    ("7 // 2", "floor division"),
    ("9**9**9", "power"),
    ("2 ** 100", "power"),
    ("1" + "0" * 100, "101 digits"),
    ("9" * 16 + "+1", "16 digits"),
    ("(" * 1000 + "1" + ")" * 1000, "characters"),
    ("(" * 30 + "1" + ")" * 30, "nested 30 deep"),
    ("-" * 150 + "1", "nested more than"),
    ("1+" * 5000 + "1", "characters"),
    ("999999*999999*999999", "larger than"),
    ("999999999999*999999999999/999999999999", "larger than"),
    ("1/0", "division by zero"),
    ("1/(3-3)", "division by zero"),
    ("1e308*10", "names"),
    ("0x10", "names"),
    ("1_000_000", "names"),
    ("1j", "names"),
    ("１２+３", "ASCII digit"),
    ("٣+٤", "ASCII digit"),
    ("1\n+2", "one line"),
    ("1;2", "';'"),
    ("", "empty"),
    ("   ", "empty"),
    ("()", "tuples"),
    ("1 2", "not an arithmetic expression"),
    ("1.2.3", "not an arithmetic expression"),
    ("007", "not an arithmetic expression"),
    ("3 x 4", "names"),
]


@pytest.mark.parametrize("expression,value", RIGHT)
def test_arithmetic_is_right_and_written_like_a_price(expression, value):
    assert calculate(expression) == calculator.Result(value, None)


@pytest.mark.parametrize("expression,why", HOSTILE)
def test_a_hostile_expression_is_refused_as_a_result_never_raised(expression, why):
    result = calculate(expression)
    assert result.value is None and result.error.startswith("refused: ") and why in result.error
    assert "\n" not in result.error and result.text == result.error


def test_any_text_at_all_is_answered_with_a_value_or_a_one_line_refusal():
    """Whatever the model writes between <|calc|> and <|/calc|>: never an exception, never a hang."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("0123456789+-*/%().,_ eEjx×÷−**\n;[]{}'\"abc=<>!~^&|@١２") + ["**", "1e308"])

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(st.one_of(st.text(max_size=40), st.lists(alphabet, max_size=30).map("".join)))
    def check(expression):
        result = calculate(expression)
        if result.value is None:
            assert result.error.startswith("refused: ") and "\n" not in result.error
        else:
            assert result.error is None and result.text == result.value

    check()


def test_not_text_at_all_is_refused():
    assert calculate(None).error == "refused: the expression is NoneType, not text"
    assert calculate(16).error == "refused: the expression is int, not text"


@pytest.mark.parametrize("source", ["__import__('os')", "os.system", "f(1)", "x[0]", "lambda: 1", "1 < 2", "a and b",
                                    "(y := 1)", "f'{x}'", "1 if 2 else 3", "'text'", "True", "1j", "2 ** 8",
                                    "[1, 2]", "{1: 2}", "~1", "not 1", "...", "None"])
def test_the_walk_itself_refuses_every_node_off_the_whitelist(source):
    """The character filter stops these first; the walk over the tree refuses them on its own too."""
    with pytest.raises(Refused):
        calculator.evaluate_tree(ast.parse(source, mode="eval"), time.monotonic() + 1)


def test_the_walk_stops_at_the_deadline():
    with pytest.raises(Refused, match="longer than"):
        calculator.evaluate_tree(ast.parse("1+1", mode="eval"), time.monotonic() - 1)


def test_the_walk_caps_the_tree_depth_before_python_runs_out_of_stack():
    deep = ast.parse("-" * (calculator.MAX_DEPTH + 5) + "1", mode="eval")
    with pytest.raises(Refused, match="nested more than"):
        calculator.evaluate_tree(deep, time.monotonic() + 1)


def test_a_long_sum_within_the_length_cap_is_fine():
    assert calculate("+".join(["1"] * 99)).value == "99"


def test_the_tool_form_is_the_value_or_the_refusal():
    assert calculator.calculator_tool("2*21") == "42"
    assert calculator.calculator_tool("2**21").startswith("refused: ")


@pytest.mark.parametrize("call, value", [("count(strawberry, r)", "3"), ("count( Strawberry ,R )", "3"),
                                         ("count(smoked yuzu eel bowl, o)", "2"), ("count(miso, x)", "0")])
def test_the_tool_counts_a_letter_in_a_word_which_arithmetic_cannot(call, value):
    assert calculator.calculator_tool(call) == value
    assert calculate(call).error.startswith("refused: names")  # the arithmetic sandbox is unchanged


@pytest.mark.parametrize("call", ["count(strawberry, rr)", "count(straw_berry, r)", "count(strawberry)",
                                  "count(strawberry, r) + 1", "count(__import__('os'), r)", "count(9, r)",
                                  "len(strawberry)", "count(" + "a" * 500 + ", a)"])
def test_any_other_count_is_refused_by_the_arithmetic_sandbox(call):
    assert calculator.calculator_tool(call).startswith("refused:")


def test_a_long_word_is_refused():
    assert calculator.calculator_tool("count(" + "ab " * 20 + ", a)").startswith("refused: the word is")
