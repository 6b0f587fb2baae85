"""The line that names a chunk: its first def/class/function line, for a search result to show.

A chunk cut by strategy A starts at a function's decorators or at the comment above it, and
one cut by B or C may start anywhere; "stats.py:12  @lru_cache" says nothing, while
"stats.py:13  def mean(values):" says what was found and where an editor should jump.

The first definition line wins. A window inside a long function (strategy F) has none, but its
header names the function: the header's last definition line is shown, at the window's first
line. Any other chunk without one (a run of imports, a SQL query) shows its first line that is
not blank, a comment or a decorator.
"""

from __future__ import annotations

import re

from .chunkers import language_of

# Deliberately simple line patterns, not a parser: a chunk is a slice of a file, and a slice
# (a window starting inside a docstring, half a class) often does not parse.
DEFINITION = {
    "python": re.compile(r"\s*(async\s+def|def|class)\s+\w"),
    "javascript": re.compile(
        r"\s*(export\s+(default\s+)?)?(async\s+)?(function\b|class\b)"  # function f(...), class C
        r"|\s*(export\s+)?(const|let|var)\s+[\w$]+\s*=\s*(async\s+)?(function\b|class\b|\(|[\w$]+\s*=>)"  # const f = ...
        r"|\s*(static\s+)?(async\s+)?(get\s+|set\s+)?\*?"  # a method: name(args) {
        r"(?!(if|for|while|switch|catch|return|function|with)\b)[\w$]+\s*\([^)]*\)\s*\{"
    ),
    "sql": re.compile(
        r"\s*create\s+(or\s+replace\s+)?(temp(orary)?\s+)?(unique\s+)?"
        r"(function|procedure|view|materialized\s+view|table|trigger|index)\b",
        re.IGNORECASE,
    ),
}
NOT_CODE = {  # line starts that name nothing: comments, and Python's and JavaScript's decorators
    "python": ("#", "@"),
    "javascript": ("//", "/*", "*", "@"),
    "sql": ("--", "/*", "*"),
}


def signature(text: str, start_line: int, path: str, header: str = "") -> tuple[int, str]:
    """(line number in the file, the line stripped) that best names the chunk starting at start_line."""
    lang = language_of(path) or "python"
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if DEFINITION[lang].match(line):
            return start_line + i, line.strip()
    enclosing = [line.strip() for line in header.split("\n") if DEFINITION[lang].match(line)]
    if enclosing:
        return start_line, enclosing[-1]
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith(NOT_CODE[lang]):
            return start_line + i, stripped
    for i, line in enumerate(lines):  # only comments: the first of them still says something
        if line.strip():
            return start_line + i, line.strip()
    return start_line, ""
