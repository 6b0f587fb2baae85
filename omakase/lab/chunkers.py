"""Five ways to cut a code file into chunks, each a line range (1-based, inclusive).

    F  function windows (the default): each function and method its own chunk under a header
                    (path, class, signature), the code between them kept, anything longer than the
                    embedder reads cut into overlapping windows that fit (function_windows.py)
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

Files are read as their bytes say: a byte-order mark (UTF-8, UTF-16, UTF-32) wins,
then a Python coding cookie, then UTF-8. Bytes that are not text in that encoding,
or hold NUL characters, make the file `Unreadable`. Several statements on one line
(minified JavaScript, `BEGIN; ...; COMMIT;`) give one chunk: a chunk is a line range.
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import OmakaseError
from . import function_windows as fw
from .coverage import Reader
from .listing import language_of

STRATEGIES = {"A": "functions", "B": "blocks", "C": "windows", "D": "cast", "F": "function windows"}
DEFAULT_STRATEGY = "F"
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
    text: str  # the file's lines start..end: what is stored, shown and searched by words
    header: str = ""  # read by the embedder before the text (strategy F: path, class, signature)
    def_line: int = 0  # strategy F: the line of the function or class the chunk belongs to (0: none, or not F)
    symbol: str = ""  # ... and its def or class line, a signature over several lines joined into one

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}" if self.header else self.text

    @property
    def lines(self) -> int:
        return self.end - self.start + 1

    @property
    def id(self) -> str:
        # unique: a file's chunks are distinct line ranges, and no range contains ":"
        return f"{self.path}:{self.start}-{self.end}"


class Unreadable(OmakaseError):
    """A file that is not text we can decode (binary, an unknown encoding): the caller skips it or stops."""


class ParseError(OmakaseError):
    """A file that is text but not valid code: the caller can still cut it into windows."""


# ---------------------------------------------------------------- reading bytes as text

# UTF-32 first: its little-endian mark begins with UTF-16's
BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def encoding_of(data: bytes, rel: str) -> str:
    for bom, codec in BOMS:
        if data.startswith(bom):
            return codec  # the codec reads and drops the mark
    if language_of(rel) == "python":
        try:  # the UTF-8 mark and a `# -*- coding: ... -*-` cookie, as Python itself reads them
            return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        except SyntaxError as e:
            raise Unreadable(f"{rel}: {e.msg}") from None
    return "utf-8-sig"


def decode_source(data: bytes, rel: str) -> str:
    if b"\0" in data[:8192] and not any(data.startswith(bom) for bom, _ in BOMS):
        # before the coding cookie is looked for: Python's reader calls a binary file's bytes a bad declaration
        raise Unreadable(f"{rel}: binary (it holds NUL bytes)")
    encoding = encoding_of(data, rel)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise Unreadable(f"{rel}: not {name} text (byte {data[e.start]:#04x} at offset {e.start})") from None
    if "\0" in text:
        raise Unreadable(f"{rel}: binary (it holds NUL bytes), or UTF-16 without a byte-order mark")
    return text


# ---------------------------------------------------------------- parsing into a tree of line ranges

def parse_python(source: str, path: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as e:  # Python 2, a merge conflict, a template
        raise ParseError(f"{path} line {e.lineno}: Python syntax error ({e.msg})") from None


def python_tree(source: str, path: str) -> list[Node]:
    module = parse_python(source, path)

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
        raise OmakaseError('JavaScript chunking needs tree-sitter; from the checkout: pip install -e ".[lab]"') from None
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


def function_windows(source: str, lang: str, rel: str, lines: list[str], reader: Reader) -> list[tuple[int, int, str]]:
    """F: (start, end, header, def line, symbol) of each window; see function_windows.py."""
    if lang == "python":
        units = fw.python_units(parse_python(source, rel), lines)
    else:
        units = fw.tree_units(PARSERS[lang](source, rel), lines, lang)
    return [w for u in units for w in fw.windows(u, lines, rel, reader)]


CHUNKERS = {"A": functions, "B": blocks, "C": windows, "D": cast, "F": function_windows}  # F reads source, not a tree


def check_strategy(strategy: str) -> str:
    strategy = strategy.upper()
    if strategy not in CHUNKERS:
        raise OmakaseError(f"unknown chunking strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    return strategy


def source_lines(source: str) -> list[str]:
    """A file's lines as chunk line numbers count them."""
    # lines end at \n, \r\n or \r, as for the parsers and editors; str.splitlines would also cut at
    # form feeds and U+2028 (common in minified JavaScript) and shift every line number after them
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it does not start another
    return lines


def chunk_source(source: str, rel: str, strategy: str, on_parse_error=None, reader: Reader | None = None) -> list[Chunk]:
    """The chunks of one file's text. Strategy F needs the embedder's `reader` (coverage.py).

    Code that does not parse raises ParseError, unless `on_parse_error` is given: then it is
    told why in one line and the file is cut into windows, which need no syntax.
    """
    strategy = check_strategy(strategy)
    lang = language_of(rel)
    if lang is None:
        raise OmakaseError(f"{rel}: not a Python, JavaScript or SQL file")
    if strategy == "F" and reader is None:
        raise ValueError("strategy F cuts to the embedder's window: pass the embedder's reader")
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    lines = source_lines(source)
    if not any(line.strip() for line in lines):
        return []
    try:
        if strategy == "F":
            ranges = function_windows(source, lang, rel, lines, reader)
        else:
            ranges = CHUNKERS[strategy](PARSERS[lang](source, rel), lines)
    except ParseError as e:
        ranges = _windows_instead(e, lines, on_parse_error)
    except RecursionError:  # a tree too deep to walk: a long `a + b + ...` chain, nested arrays in minified JS
        ranges = _windows_instead(ParseError(f"{rel}: nested too deeply to parse"), lines, on_parse_error)
    chunks, seen = [], set()
    for start, end, *header in ranges:  # F adds each window's header, def line and symbol
        start, end = trim(lines, start, min(end, len(lines)))
        if start <= end and (start, end) not in seen:  # statements sharing a line share its range
            seen.add((start, end))
            chunks.append(Chunk(rel, start, end, "\n".join(lines[start - 1 : end]), *header))
    return chunks


def _windows_instead(error: ParseError, lines: list[str], on_parse_error) -> list[tuple[int, int]]:
    if on_parse_error is None:
        raise error
    on_parse_error(f"{error}; cut into {WINDOW}-line windows instead")
    return windows([], lines)


def chunk_file(path: Path, rel: str, strategy: str, reader: Reader | None = None) -> list[Chunk]:
    """Strict: a file that cannot be read or parsed stops the caller with one line."""
    try:
        return chunk_source(decode_source(Path(path).read_bytes(), rel), rel, strategy, reader=reader)
    except (Unreadable, ParseError) as e:
        raise OmakaseError(f"{e}; fix it or leave the file out") from None


def trim(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Drop blank lines at either end of a range: they carry nothing to embed."""
    while start <= end and not lines[start - 1].strip():
        start += 1
    while end >= start and not lines[end - 1].strip():
        end -= 1
    return start, end
