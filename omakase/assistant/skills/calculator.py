"""The assistant's calculator: arithmetic in a sandbox, for a model that cannot add in its head.

A language model "does arithmetic" by predicting digits one token at a time, so a
bill for several dishes comes out wrong as often as not. Instead it writes
<|calc|>3*12+2*7<|/calc|> and the orchestrator (tools.py) asks this module.
The text comes from a model (or whoever talks to it), so it is untrusted:

  - never `eval`: the text is parsed with `ast` and a walk evaluates only the
    nodes on a whitelist: numbers (int or decimal, no bool, complex, hex or
    exponent), + - * / (also written × ÷ −), parentheses and unary minus/plus.
    A name, attribute, call, string, subscript, power, comparison... is refused.
  - before parsing, a character whitelist (ASCII digits, the four operators,
    parentheses, a point, spaces) and caps on the length, the digits of a
    literal and the depth of parentheses, so `ast.parse` never sees a deep or
    huge input (its C parser has recursion limits of its own).
  - while walking: a cap on the tree's depth, on the size of every intermediate
    result (so nothing grows: there is no power, and |x| <= MAX_MAGNITUDE
    bounds products), division by zero, and a wall-clock deadline.

Beside arithmetic it reads letters, which a model that sees word-pieces cannot: the one
call `count(strawberry, r)` is the number of r's in "strawberry" (nanochat's spelling
tool). That form is matched whole by a regular expression (a word or name of letters and
spaces, at most MAX_WORD characters, and one letter) and never reaches the parser, so
it adds no call, name or string to what arithmetic accepts: `calculate` still refuses them.

Numbers are exact fractions (Fraction), so 0.1 + 0.2 is 0.3 and 1/3*3 is 1; the
result is written like a price: an integer as an integer, otherwise rounded to
2 decimals. `calculate` never raises: every failure is a Result whose `error`
is one line starting with "refused:", which goes back to the model as its result.
"""

from __future__ import annotations

import ast
import math
import re
import time
from dataclasses import dataclass
from fractions import Fraction

MAX_LENGTH = 200  # characters of an expression
MAX_DIGITS = 15  # digits of one literal (a bill's numbers are a few digits)
MAX_PARENTHESES = 20  # depth of nested parentheses
MAX_DEPTH = 100  # depth of the syntax tree (a long sum is a deep left-leaning tree)
MAX_MAGNITUDE = 10**12  # of every intermediate result
DEADLINE_SECONDS = 0.5  # wall clock for one expression; the caps keep real ones far below it

ALLOWED = set("0123456789+-*/(). ")
SPELLINGS = {"×": "*", "÷": "/", "−": "-", "\t": " "}  # people write × and ÷; − is Unicode's minus
LITERAL = re.compile(r"[0-9.]+")
OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.Div: lambda a, b: a / b}
SAY_OPERATOR = {ast.Pow: "a power (**)", ast.FloorDiv: "floor division (//)", ast.Mod: "a remainder (%)",
                ast.MatMult: "@", ast.LShift: "a bit shift", ast.RShift: "a bit shift", ast.BitAnd: "a bit operation",
                ast.BitOr: "a bit operation", ast.BitXor: "a bit operation", ast.Invert: "a bit operation",
                ast.Not: "not"}
HOW = "use numbers, + - × ÷ and parentheses"
MAX_WORD = 40  # characters of the word (or dish name) a letter count reads
COUNT = re.compile(r"count\(\s*([A-Za-z][A-Za-z ]*?)\s*,\s*([A-Za-z])\s*\)")


@dataclass(frozen=True)
class Result:
    value: str | None  # the result as text ("50", "12.5", "0.33"); None when refused
    error: str | None = None  # one line, "refused: ..." ; None when there is a value

    @property
    def text(self) -> str:
        """What goes back to the model inside <|result|>...<|/result|>."""
        return self.value if self.value is not None else str(self.error)


class Refused(Exception):
    """Raised inside this module only; `calculate` turns it into a Result."""


def calculate(expression: str) -> Result:
    """The value of an arithmetic expression, or why it is refused. Never raises."""
    try:
        return Result(format_number(_evaluate(expression)))
    except Refused as e:
        return Result(None, f"refused: {e}")
    except (RecursionError, MemoryError):  # the caps should make these impossible; stay a sandbox if not
        return Result(None, "refused: the expression is too complex")


def calculator_tool(expression: str) -> str:
    """The calculator as a tool for the orchestrator: text in, result or refusal text out.
    `count(word, letter)` counts a letter in a word; anything else is arithmetic."""
    counted = count_letter(expression)
    return (counted if counted is not None else calculate(expression)).text


def count_letter(call) -> Result | None:
    """`count(word, letter)`: how many times the letter is in the word, case ignored (None: not this form)."""
    if not isinstance(call, str) or len(call) > MAX_LENGTH:  # the length cap first: the regex never sees a long text
        return None
    match = COUNT.fullmatch(call.strip())
    if match is None:
        return None
    word, letter = match.group(1).lower(), match.group(2).lower()
    if len(word) > MAX_WORD:
        return Result(None, f"refused: the word is {len(word)} characters; at most {MAX_WORD}")
    return Result(str(word.count(letter)))


def format_number(x: Fraction) -> str:
    """An integer as an integer, anything else rounded to 2 decimals with no float noise."""
    if x.denominator == 1:
        return str(x.numerator)
    cents = math.floor(abs(x) * 100 + Fraction(1, 2))  # half a cent rounds up, as on a bill (round() would go to even)
    sign = "-" if x < 0 and cents else ""
    whole, part = divmod(cents, 100)
    return f"{sign}{whole}" if part == 0 else f"{sign}{whole}.{part:02d}".rstrip("0")


def _evaluate(expression) -> Fraction:
    if not isinstance(expression, str):
        raise Refused(f"the expression is {type(expression).__name__}, not text")
    if len(expression) > MAX_LENGTH:
        raise Refused(f"the expression is {len(expression):,} characters; at most {MAX_LENGTH}")
    for spelling, plain in SPELLINGS.items():
        expression = expression.replace(spelling, plain)
    if not expression.strip():
        raise Refused(f"the expression is empty; {HOW}")
    for ch in expression:
        if ch not in ALLOWED:
            raise Refused(_bad_character(ch))
    for literal in LITERAL.findall(expression):
        digits = sum(c.isdigit() for c in literal)
        if digits > MAX_DIGITS:
            raise Refused(f"a number has {digits} digits; at most {MAX_DIGITS}")
    depth = deepest = 0
    for ch in expression:
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_PARENTHESES:
        raise Refused(f"parentheses are nested {deepest} deep; at most {MAX_PARENTHESES}")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise Refused(f"{expression.strip()!r} is not an arithmetic expression; {HOW}") from None
    return evaluate_tree(tree, time.monotonic() + DEADLINE_SECONDS)


def _bad_character(ch: str) -> str:
    if ch.isalpha() or ch == "_":
        return f"names are not allowed (found {ch!r}); {HOW}"
    if ch in "'\"":
        return f"strings are not allowed; {HOW}"
    if ch.isdigit():
        return f"{ch!r} is not an ASCII digit; write digits 0-9"
    if ch in "\n\r":
        return f"the expression must be one line; {HOW}"
    return f"{ch!r} is not allowed; {HOW}"


def evaluate_tree(tree: ast.AST, deadline: float) -> Fraction:
    """Walk a parsed expression, allowing only the whitelisted nodes (the sandbox's core)."""
    if not isinstance(tree, ast.Expression):
        raise Refused(f"only a single expression is allowed; {HOW}")
    return _value(tree.body, 1, deadline)


def _value(node: ast.AST, depth: int, deadline: float) -> Fraction:
    if depth > MAX_DEPTH:
        raise Refused(f"the expression is nested more than {MAX_DEPTH} deep")
    if time.monotonic() > deadline:
        raise Refused(f"the expression took longer than {DEADLINE_SECONDS} s")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Refused(f"{type(v).__name__} constants are not allowed; {HOW}")
        x = Fraction(repr(v)) if isinstance(v, float) else Fraction(v)  # repr: the literal's own digits
        return _bounded(x)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return -_value(node.operand, depth + 1, deadline)
        if isinstance(node.op, ast.UAdd):
            return _value(node.operand, depth + 1, deadline)
        raise Refused(f"{SAY_OPERATOR.get(type(node.op), type(node.op).__name__)} is not allowed; {HOW}")
    if isinstance(node, ast.BinOp):
        op = OPERATORS.get(type(node.op))
        if op is None:
            raise Refused(f"{SAY_OPERATOR.get(type(node.op), type(node.op).__name__)} is not allowed; {HOW}")
        left = _value(node.left, depth + 1, deadline)
        right = _value(node.right, depth + 1, deadline)
        if isinstance(node.op, ast.Div) and right == 0:
            raise Refused("division by zero")
        return _bounded(op(left, right))
    raise Refused(f"{_say_node(node)} not allowed; {HOW}")


def _bounded(x: Fraction) -> Fraction:
    if abs(x) > MAX_MAGNITUDE:
        raise Refused(f"a result is larger than {MAX_MAGNITUDE:,}")
    return x


def _say_node(node: ast.AST) -> str:
    names = {ast.Name: "names are", ast.Attribute: "attributes are", ast.Call: "calls are",
             ast.Subscript: "subscripts are", ast.Lambda: "lambdas are", ast.Compare: "comparisons are",
             ast.BoolOp: "and/or are", ast.NamedExpr: "assignments are", ast.JoinedStr: "f-strings are",
             ast.IfExp: "conditionals are", ast.Tuple: "tuples are"}
    for kind, said in names.items():
        if isinstance(node, kind):
            return said
    return f"{type(node).__name__} is"
