"""The model's parts in kitchen words: what the tour and the web page both point at.

Every dial (parameter) has an address, `matrix[row][col]`, and a place in the kitchen:
wte[12][6] is number 7 of m's flavor card, wpe[2][6] number 7 of the position tag of
course 3, layer0.mlp_fc1[11][4] the back kitchen's unit 12 of 64 tasting stock number 5.
This module turns one into the other (`dial_parts`, `name_dial`), finds a dial by its flat
number (`locate`), turns one dial on a copy of the parameters (`turned`) and measures a
course's penalty again (`nudge`), measures a vector's size (`size`), and builds the
salt-and-sugar example of tracing (`salt_and_sugar`). The words are in anatomy.json, one block per language;
the tour's and the page's catalogues add their own sentences around them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .autograd import Value
from .checkpoint import Checkpoint
from .config import GPTConfig, param_shapes
from .engines import make_engine
from .errors import OmakaseError
from .sample import course_penalty
from .tokenizer import Tokenizer

WORDS = Path(__file__).with_suffix(".json")
LANGUAGES = ("en", "zh")
SALT, SUGAR = 2.0, 3.0  # the article's worked example: taste = salt x sugar + salt

# Which station of the kitchen each kind of matrix belongs to (a layer's matrices are "layer<i>.<kind>").
STATIONS = {"wte": "card", "wpe": "tag", "lm_head": "vote", "attn_wq": "roundtable", "attn_wk": "roundtable",
            "attn_wv": "roundtable", "attn_wo": "roundtable", "mlp_fc1": "back_kitchen", "mlp_fc2": "back_kitchen"}


class Words:
    """The kitchen's words for the model's parts in one language: `words(key, **values)`."""

    def __init__(self, lang: str):
        if lang not in LANGUAGES:
            raise OmakaseError(f"language must be one of {', '.join(LANGUAGES)}, got {lang[:8]!r}")
        self.lang = lang
        self.entries: dict[str, str] = json.loads(WORDS.read_text(encoding="utf-8"))[lang]

    def __call__(self, entry: str, /, **values) -> str:
        return self.entries[entry].format(**values)

    def course(self, label: str) -> str:
        """A course as a reader sees it: the letter, the bell in the reader's language, the space as ␣."""
        return self("bell.label") if label == "<bell>" else "␣" if label == " " else label


def kind_of(matrix: str) -> tuple[int | None, str]:
    """'layer1.mlp_fc1' -> (1, 'mlp_fc1'); 'wte' -> (None, 'wte')."""
    if matrix.startswith("layer") and "." in matrix:
        layer, kind = matrix.split(".", 1)
        return int(layer[len("layer"):]), kind
    return None, matrix


def station_of(matrix: str) -> str:
    """The station a matrix belongs to: card, tag, roundtable, back_kitchen or vote."""
    return STATIONS[kind_of(matrix)[1]]


def check_dial(config: GPTConfig, matrix: str, row: int, col: int) -> None:
    """One line naming what is wrong when matrix[row][col] is not a dial of this model."""
    shapes = dict(param_shapes(config))
    if matrix not in shapes:
        raise OmakaseError(f"unknown matrix {matrix[:40]!r}; this model has {', '.join(shapes)}")
    rows, cols = shapes[matrix]
    if not (0 <= row < rows and 0 <= col < cols):
        raise OmakaseError(f"{matrix} is {rows} x {cols}; row {row}, column {col} is outside it")


def locate(config: GPTConfig, dial: int) -> tuple[str, int, int]:
    """The matrix, row and column of the flat dial number `dial` (0-based, the reference's order)."""
    for name, (rows, cols) in param_shapes(config):
        if dial < rows * cols:
            return name, dial // cols, dial % cols
        dial -= rows * cols
    raise IndexError("dial index out of range")


def row_parts(config: GPTConfig, tokenizer: Tokenizer, matrix: str, row: int) -> dict:
    """What one row of a matrix is in the kitchen, as the values its words need ("row.<kind>")."""
    _, kind = kind_of(matrix)
    hd = config.head_dim
    if kind in ("wte", "lm_head"):
        return {"course": tokenizer.label(row)}
    if kind == "wpe":
        return {"position": row + 1}
    if kind in ("attn_wq", "attn_wk", "attn_wv"):
        return {"chef": row // hd + 1, "part": row % hd + 1}
    if kind == "mlp_fc1":
        return {"unit": row + 1, "units": 4 * config.n_embd}
    return {"number": row + 1}  # attn_wo, mlp_fc2: a row writes one number of the stock


def col_parts(config: GPTConfig, matrix: str, col: int) -> dict:
    """What one column of a matrix is in the kitchen ("col.<kind>")."""
    _, kind = kind_of(matrix)
    hd = config.head_dim
    if kind == "attn_wo":
        return {"chef": col // hd + 1, "part": col % hd + 1}
    if kind == "mlp_fc2":
        return {"unit": col + 1, "units": 4 * config.n_embd}
    return {"number": col + 1}  # a number of a card, a tag or the stock


def dial_parts(config: GPTConfig, tokenizer: Tokenizer, matrix: str, row: int, col: int) -> dict:
    """Everything `name_dial` needs, as plain data: the page formats the same words with it."""
    check_dial(config, matrix, row, col)
    layer, kind = kind_of(matrix)
    return {"key": f"dial.{kind}", "station": station_of(matrix), "matrix": matrix, "row": row, "col": col,
            "layer": None if layer is None or config.n_layer == 1 else layer + 1,
            **col_parts(config, matrix, col), **row_parts(config, tokenizer, matrix, row)}


def name_dial(words: Words, parts: dict) -> str:
    """A dial in kitchen words: "m's flavor card, number 7", "the back kitchen, unit 12 of 64, ..."."""
    values = {**parts, "course": words.course(parts["course"])} if "course" in parts else parts
    name = words(parts["key"], **values)
    return name if parts["layer"] is None else words("dial.in_line", line=parts["layer"], dial=name)


def turned(params: dict, dial: tuple[str, int, int], by: float) -> dict:
    """A copy of the parameters with one dial (matrix, row, column) turned by `by`; the original is untouched
    (only the turned matrix is copied)."""
    matrix, row, col = dial
    params = dict(params)
    params[matrix] = [list(r) for r in params[matrix]]
    params[matrix][row][col] += by
    return params


def nudge(ckpt: Checkpoint, dial: tuple[str, int, int], by: float, tokens: list[int], course: int,
          engine: str = "numpy") -> float:
    """The penalty on course `course + 1` of `tokens`, measured again on a copy of the model whose dial
    (matrix, row, column) is turned by `by` (the checkpoint itself is never changed)."""
    check_dial(ckpt.config, *dial)
    return course_penalty(make_engine(engine, ckpt.config, turned(ckpt.params, dial, by)), tokens, course)


def size(vector) -> float:
    """A vector's size (its length, the square root of the sum of squares): how strong a stock is."""
    return float(np.linalg.norm(vector))


def salt_and_sugar() -> dict[str, Value]:
    """The worked example, built by the autograd engine (not yet traced): blend = salt x sugar,
    taste = blend + salt. After taste.backward(), salt's influence is 3 + 1 = 4 and sugar's 2."""
    salt, sugar = Value(SALT), Value(SUGAR)
    blend = salt * sugar
    return {"salt": salt, "sugar": sugar, "blend": blend, "taste": blend + salt}
