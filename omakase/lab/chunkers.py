"""Four ways to cut a code file into chunks, each a line range (1-based, inclusive).

    A  functions    whole top-level functions and classes; the code between them in runs
    B  blocks       semantic blocks of at most 10 lines (mostly 5-10): consecutive statements
                    packed along the syntax tree
    C  windows      fixed 20-line windows, blind to syntax
    D  cast         split-then-merge along the syntax tree under a size budget (the cAST method,
                    Zhang et al. 2025): a node too big is split into its children, then adjacent
                    siblings are merged back while they fit

Python is parsed with the standard library's `ast`, JavaScript with tree-sitter,
and SQL by a small statement splitter (a statement ends at a `;` outside quotes
and comments), since a SQL file is a flat list of statements.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import OmakaseError

LANGUAGES = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".sql": "sql"}
STRATEGIES = {"A": "functions", "B": "blocks", "C": "windows", "D": "cast"}
BLOCK_MAX = 10  # lines; packing small pieces up to this leaves most blocks at 5-10 lines
WINDOW = 20
CAST_BUDGET = 600  # non-whitespace characters, comfortably under MiniLM's 256 word pieces


@dataclass
class Node:
    start: int
    end: int
    is_definition: bool = False
    children: list["Node"] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int
    end: int
    text: str

    @property
    def lines(self) -> int:
        return self.end - self.start + 1


# ---------------------------------------------------------------- parsing into a tree of line ranges

def python_tree(source: str, path: str) -> list[Node]:
    try:
        module = ast.parse(source)
    except SyntaxError as e:
        raise OmakaseError(f"{path} line {e.lineno}: Python syntax error ({e.msg}); fix it or leave the file out") from None

    def node(n) -> Node:
        start = min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])])
        kids = [c for c in ast.iter_child_nodes(n) if isinstance(c, (ast.stmt, ast.excepthandler, ast.match_case))]
        return Node(start, n.end_lineno, isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)),
                    [node(c) for c in kids if hasattr(c, "lineno")])

    return [node(n) for n in module.body]


@lru_cache(maxsize=1)
def _js_parser():
    try:
        import tree_sitter_javascript
        from tree_sitter import Language, Parser
    except ImportError:
        raise OmakaseError("JavaScript chunking needs tree-sitter: pip install 'omakase[lab]'") from None
    return Parser(Language(tree_sitter_javascript.language()))


JS_DEFINITIONS = {"function_declaration", "generator_function_declaration", "class_declaration"}


def _js_is_definition(n) -> bool:
    if n.type in JS_DEFINITIONS:
        return True
    if n.type == "export_statement":
        return any(_js_is_definition(c) for c in n.named_children)
    if n.type in ("lexical_declaration", "variable_declaration"):
        # const f = (...) => ... / const f = function ...
        return any(
            (d.child_by_field_name("value") is not None
             and d.child_by_field_name("value").type in ("arrow_function", "function_expression", "function", "class"))
            for d in n.named_children if d.type == "variable_declarator"
        )
    return False


def javascript_tree(source: str, path: str) -> list[Node]:
    tree = _js_parser().parse(source.encode("utf-8"))

    def node(n) -> Node:
        return Node(n.start_point[0] + 1, n.end_point[0] + 1, _js_is_definition(n), [node(c) for c in n.named_children])

    return [node(n) for n in tree.root_node.named_children]


def sql_tree(source: str, path: str) -> list[Node]:
    """Statements, each ending at a `;` outside quotes and comments (the last may lack it)."""
    nodes: list[Node] = []
    start = last = None  # first and latest line of the statement being read
    line, i, n = 1, 0, len(source)
    while i < n:
        ch = source[i]
        if source.startswith("--", i):
            i = source.find("\n", i) if "\n" in source[i:] else n
            continue
        if source.startswith("/*", i):
            j = source.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += source.count("\n", i, j)
            i = j
            continue
        if ch == "\n":
            line += 1
        elif not ch.isspace():
            start = line if start is None else start
            if ch in "'\"":
                j = source.find(ch, i + 1)
                j = n - 1 if j < 0 else j
                line += source.count("\n", i, j)
                i = j
            last = line
            if ch == ";":
                nodes.append(Node(start, line, True))
                start = None
        i += 1
    if start is not None:
        nodes.append(Node(start, last, True))
    return nodes


PARSERS = {"python": python_tree, "javascript": javascript_tree, "sql": sql_tree}


def language_of(path: str | Path) -> str | None:
    return LANGUAGES.get(Path(path).suffix.lower())


# ---------------------------------------------------------------- the four strategies (line ranges)

def functions(tree: list[Node], lines: list[str]) -> list[tuple[int, int]]:
    """A: each top-level definition whole; consecutive other top-level statements as one run."""
    out, run = [], None
    for n in tree:
        if n.is_definition:
            if run:
                out.append(run)
                run = None
            out.append((n.start, n.end))
        else:
            run = (run[0], n.end) if run else (n.start, n.end)
    if run:
        out.append(run)
    return out


def blocks(tree: list[Node], lines: list[str]) -> list[tuple[int, int]]:
    """B: split any node longer than BLOCK_MAX into its children, then pack pieces up to BLOCK_MAX lines."""
    pieces: list[tuple[int, int]] = []

    def cut(n: Node, start: int) -> None:
        # `start` may sit before n.start (a header, or lines between siblings); they belong to this piece
        if n.end - start + 1 <= BLOCK_MAX or not n.children:
            pieces.append((start, n.end))
            return
        kids = sorted(n.children, key=lambda c: c.start)
        if kids[0].start > start:
            pieces.append((start, kids[0].start - 1))  # the header line(s) before the first child
        prev_end = kids[0].start - 1
        for c in kids:
            if c.end <= prev_end:
                continue  # a child on a line already covered
            cut(c, prev_end + 1)
            prev_end = pieces[-1][1]
        if n.end > prev_end:
            pieces.append((prev_end + 1, n.end))  # closing lines, e.g. a JS "}"

    for n in tree:
        cut(n, n.start)
    return pack(pieces, lambda a, b: b - a + 1 <= BLOCK_MAX)


def windows(tree: list[Node], lines: list[str]) -> list[tuple[int, int]]:
    """C: 1-20, 21-40, ... regardless of syntax."""
    return [(s, min(s + WINDOW - 1, len(lines))) for s in range(1, len(lines) + 1, WINDOW)]


def size(lines: list[str], start: int, end: int) -> int:
    return sum(len("".join(line.split())) for line in lines[start - 1 : end])


def cast(tree: list[Node], lines: list[str], budget: int = CAST_BUDGET) -> list[tuple[int, int]]:
    """D: cAST. Nodes that fit the budget stay whole; bigger ones recurse; siblings merge while they fit."""
    fits = lambda a, b: size(lines, a, b) <= budget  # noqa: E731

    def split(nodes: list[Node]) -> list[tuple[int, int]]:
        out = []
        for n in nodes:
            if fits(n.start, n.end) or not n.children:
                out.append((n.start, n.end))
            else:
                parts = split(sorted(n.children, key=lambda c: c.start))
                # keep the node's own lines outside its children (header, closing brace) with the nearest part
                parts[0] = (n.start, parts[0][1])
                parts[-1] = (parts[-1][0], n.end)
                out.extend(parts)
        return pack(out, fits)

    return split(tree)


def pack(pieces: list[tuple[int, int]], fits) -> list[tuple[int, int]]:
    """Greedily merge adjacent ranges (and the lines between them) while the merged range fits."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if out and end <= out[-1][1]:
            continue
        start = max(start, out[-1][1] + 1) if out else start
        if out and fits(out[-1][0], end):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


CHUNKERS = {"A": functions, "B": blocks, "C": windows, "D": cast}


def chunk_file(path: Path, rel: str, strategy: str) -> list[Chunk]:
    if strategy not in CHUNKERS:
        raise OmakaseError(f"unknown chunking strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    lang = language_of(path)
    if lang is None:
        raise OmakaseError(f"{rel}: not a Python, JavaScript or SQL file")
    source = Path(path).read_text(encoding="utf-8", errors="replace")
    lines = source.splitlines()
    if not any(line.strip() for line in lines):
        return []
    tree = PARSERS[lang](source, rel)
    chunks = []
    for start, end in CHUNKERS[strategy](tree, lines):
        start, end = trim(lines, start, min(end, len(lines)))
        if start <= end:
            chunks.append(Chunk(rel, start, end, "\n".join(lines[start - 1 : end])))
    return chunks


def trim(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Drop blank lines at either end of a range: they carry nothing to embed."""
    while start <= end and not lines[start - 1].strip():
        start += 1
    while end >= start and not lines[end - 1].strip():
        end -= 1
    return start, end


def code_files(root: Path) -> list[Path]:
    """Python, JavaScript and SQL files under root, sorted, skipping hidden folders and virtualenvs."""
    root = Path(root)
    if not root.is_dir():
        raise OmakaseError(f"{root} is not a folder; give a folder of Python, JavaScript or SQL code")
    skip = {"node_modules", "__pycache__", "venv", ".venv", "site-packages"}
    files = [
        p for p in sorted(root.rglob("*"))
        if p.is_file() and language_of(p)
        and not any(part.startswith(".") or part in skip for part in p.relative_to(root).parts[:-1])
    ]
    if not files:
        raise OmakaseError(f"{root} holds no .py, .js or .sql file; point at a folder of code")
    return files
