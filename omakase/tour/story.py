"""The story's pieces: the catalogue of sentences, the blocks a chapter is told in, and how numbers are written.

A chapter is a title and a list of blocks (paragraphs, tables, figures, its
question, the closing line); each chapter module (chapters/) weaves its live
numbers into the catalogue's sentences as these blocks (chapters.tell). This
module imports no chapter: the chapters build on it, never the other way round. The console (telling.py)
and the HTML page (html_page.py) render the very same blocks, so the terminal and
the page never tell different stories. Numbers are formatted with the helpers
here; every word comes from the catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter

CATALOGUE = Path(__file__).parent / "catalogue"
LANGUAGES = ("en", "zh")


class Catalogue:
    """Every sentence of the tour in one language: `t(key, **values)`."""

    def __init__(self, lang: str):
        self.lang = lang
        self.entries: dict[str, str] = json.loads((CATALOGUE / f"{lang}.json").read_text(encoding="utf-8"))
        # the second half's sentences (chapters 9-15) live in their own file beside the first half's
        self.entries.update(json.loads((CATALOGUE / f"{lang}-part2.json").read_text(encoding="utf-8")))

    def __call__(self, key: str, **values) -> str:
        return self.entries[key].format(**values)

    def join(self, items) -> str:
        return self.entries["list.separator"].join(items)

    def sentences(self, *texts: str) -> str:
        """Sentences run on in one paragraph (empty ones left out): a space between them, none in Chinese."""
        return ("" if self.lang == "zh" else " ").join(x for x in texts if x)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@dataclass
class Para:
    text: str


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    name: str
    alt: str


@dataclass
class Question:
    """Predict, then reveal: the reader guesses before the answer is shown."""
    text: str
    answer: str


@dataclass
class Hint:
    """A sentence for the terminal only: it names a command-line flag, and a reader of the page has no flags."""
    text: str


@dataclass
class Summary:
    text: str


@dataclass
class Chapter:
    number: int
    title: str
    blocks: list = field(default_factory=list)


def course(t: Catalogue, label: str) -> str:
    """A course as the reader sees it: the letter, or the bell in the reader's language."""
    return t("bell.label") if label == "<bell>" else "␣" if label == " " else label


def visible(text: str) -> str:
    """A menu as the reader sees it in running text: its spaces shown (␣), since a space is a course too."""
    return text.replace(" ", "␣")


def courses_text(t: Catalogue, labels) -> str:
    return " ".join(course(t, label) for label in labels)


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def kitchen_table(t: Catalogue, rows) -> Table:
    """The tour's usual table: kitchen word, real term, value, and whose number it is."""
    headers = [t("col.kitchen"), t("col.real"), t("col.value"), t("col.whose")]
    return Table(headers, [[t(f"k.{key}"), t(f"r.{key}"), value, t(f"whose.{whose}")] for key, value, whose in rows])


MAP_ROWS = ("model", "parameters", "dataset", "token", "tokenizer", "bos", "embedding", "position", "attention",
            "qkv", "heads", "kv_cache", "mlp", "relu", "residual", "rmsnorm", "softmax", "loss", "backprop",
            "gradient", "chain_rule", "operations", "adam", "training_loop", "inference", "temperature",
            "hallucination", "sft", "rlhf", "scale")


def metaphor_map(t: Catalogue) -> Table:
    """The reference table: kitchen word, real term, where the picture breaks."""
    return Table([t("col.kitchen"), t("col.real"), t("col.breaks")],
                 [[t(f"map.{row}.kitchen"), t(f"map.{row}.real"), t(f"map.{row}.breaks")] for row in MAP_ROWS])
