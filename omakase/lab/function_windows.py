"""Strategy F, function windows: every function and method its own chunk, cut to what the embedder reads.

Strategy A gives a class one chunk, and MiniLM reads only its first 256 word pieces: most of a
long class is in the index but in no vector. Here

- every top-level function, and every method (at the level of its class, nested classes too) is a
  unit of its own, with its decorators and the comment lines right above it;
- the rest is kept: the code between definitions (imports, constants, a class's docstring and
  attributes, comments) forms units of consecutive lines;
- each unit is embedded under a header naming where it sits: the file's path, the enclosing
  class lines, and the function's signature when the chunk does not start with it;
- a unit longer than the embedder's window (counted with its own tokenizer, header and special
  tokens included) is cut into overlapping line windows that each fit.

A chunk stays a line range; the header is only read by the embedder, and each window also carries
the def line of the function it belongs to, so search can show one row per function. A single line longer than the window (minified code, a huge literal) cannot be cut
into lines and is embedded truncated; `coverage.py` counts what that loses.

Python's units come from `ast`; JavaScript's and SQL's from the trees chunkers.py builds, at the
top level only (a JavaScript class stays one unit, windowed like any other).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .coverage import Reader

TRAILING_COMMENT = re.compile(r"\s*#[^'\"]*$")  # a comment after the code, unless a quote follows the #
# lines repeated at the start of the next window (at most a quarter of it), so that a short
# statement cut at a boundary is whole in one of the two
OVERLAP = 3
COMMENTS = {"python": ("#",), "javascript": ("//", "/*", "*"), "sql": ("--", "/*", "*")}  # how comment lines start


@dataclass
class Unit:
    start: int
    end: int
    context: list[tuple[int, str]]  # (line, text) naming where the unit sits: enclosing classes, its signature


# ---------------------------------------------------------------- units: which lines belong together

def signature_of(n, lines: list[str]) -> str:
    """A def or class line, with a signature spread over several lines joined into one."""
    last = n.body[0].lineno - 1 if n.body and n.body[0].lineno > n.lineno else n.lineno
    out = []
    for line in lines[n.lineno - 1 : max(last, n.lineno)]:
        out.append(line.strip())
        if TRAILING_COMMENT.sub("", line).rstrip().endswith(":"):
            break  # the signature's colon: what follows before the body is comments
    return " ".join(out)


def python_units(module: ast.Module, lines: list[str]) -> list[Unit]:
    owner: list[object] = [None] * (len(lines) + 1)  # per line, the unit it belongs to; None: the module's gaps
    contexts: dict[object, list[tuple[int, str]]] = {None: []}

    def claim(n, key, scope) -> None:
        start = with_comments_above(min([n.lineno] + [d.lineno for d in n.decorator_list]), lines, owner, scope, "python")
        for i in range(start, n.end_lineno + 1):
            owner[i] = key

    def visit(body, classes: list[tuple[int, str]], scope) -> None:
        for n in body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                key = ("def", n.lineno)
                contexts[key] = classes + [(n.lineno, signature_of(n, lines))]
                claim(n, key, scope)
            elif isinstance(n, ast.ClassDef):
                key = ("class", n.lineno)  # the class's own lines outside its methods
                inside = classes + [(n.lineno, signature_of(n, lines))]
                contexts[key] = inside
                claim(n, key, scope)
                visit(n.body, inside, key)

    visit(module.body, [], None)
    return runs(owner, contexts)


def tree_units(tree, lines: list[str], lang: str) -> list[Unit]:
    """JavaScript and SQL: each top-level definition or statement (Node.is_definition) and the gaps between."""
    owner: list[object] = [None] * (len(lines) + 1)
    contexts: dict[object, list[tuple[int, str]]] = {None: []}
    for n in tree:
        if n.is_definition:
            contexts[n.start] = [(n.start, lines[n.start - 1].strip())]
            for i in range(with_comments_above(n.start, lines, owner, None, lang), n.end + 1):
                owner[i] = n.start
    return runs(owner, contexts)


def with_comments_above(start: int, lines: list[str], owner: list, scope, lang: str) -> int:
    """Where a definition starts once the comment lines right above it, which describe it, are its own."""
    while start > 1 and lines[start - 2].lstrip().startswith(COMMENTS[lang]) and owner[start - 1] == scope:
        start -= 1
    return start


def runs(owner: list, contexts: dict) -> list[Unit]:
    """Consecutive lines with the same owner form one unit."""
    units: list[Unit] = []
    for i in range(1, len(owner)):
        if units and owner[i] == owner[i - 1]:
            units[-1].end = i
        else:
            units.append(Unit(i, i, contexts[owner[i]]))
    return units


# ---------------------------------------------------------------- windows: what fits the embedder

def header(rel: str, context: list[tuple[int, str]], start: int, reader: Reader) -> str:
    """The path, and the context lines that come before the chunk (those inside it are there already).

    A header that would take more than half the window (a signature of forty parameters) loses
    the signature, then the classes: the code matters more than its address.
    """
    before = [text for line, text in context if line < start]
    for keep in range(len(before), -1, -1):
        text = "\n".join([f"# {rel}", *before[:keep]])
        if reader.budget is None or reader.count(text) <= reader.budget // 2:
            return text
    return text


def windows(unit: Unit, lines: list[str], rel: str, reader: Reader) -> list[tuple[int, int, str, int, str]]:
    """(start, end, header, def line, symbol) of line windows that cover the unit, each within the reader's window.

    The def line and symbol name the function or class the unit belongs to (0 and "" for the
    code between definitions): every window of one function carries the same, so search can
    show the function once, at its def, whichever window matched.
    """
    def_line, symbol = unit.context[-1] if unit.context else (0, "")
    start, end = unit.start, unit.end
    while start <= end and not lines[start - 1].strip():
        start += 1
    while end >= start and not lines[end - 1].strip():
        end -= 1
    if start > end:
        return []
    if reader.budget is None:
        return [(start, end, header(rel, unit.context, start, reader), def_line, symbol)]
    pieces = {i: reader.count(lines[i - 1]) if lines[i - 1].strip() else 0 for i in range(start, end + 1)}

    def fits(a: int, b: int) -> bool:
        return reader.count(header(rel, unit.context, a, reader)) + sum(pieces[i] for i in range(a, b + 1)) <= reader.budget

    out = []
    while True:
        last = start
        while last < end and fits(start, last + 1):
            last += 1
        while last > start and not lines[last - 1].strip():
            last -= 1
        out.append((start, last, header(rel, unit.context, start, reader), def_line, symbol))  # a line too long alone: truncated
        if last >= end:
            return out
        following = next(i for i in range(last + 1, end + 1) if lines[i - 1].strip())
        nxt = max(start + 1, last + 1 - min(OVERLAP, (last - start + 1) // 4))  # short windows: less overlap
        while nxt < following and not fits(nxt, following):
            nxt += 1  # less overlap, so the next window still gets past this one
        while not lines[nxt - 1].strip():
            nxt += 1
        start = nxt
