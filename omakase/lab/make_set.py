"""A code-search test collection from real code: each documented function's docstring asks for it.

For every function or method (nested ones too) whose docstring opens with a sentence of at
least MIN_WORDS words, the query is that first sentence and the one relevant document is the
function's source with the docstring removed. Written in the BEIR format `lab eval --set` reads:

    corpus.jsonl   one function a line, docstrings removed (its own and those of functions and
                   classes nested in it, so no document holds any query word for word)
    queries.jsonl  the first sentences
    qrels.tsv      query-id  corpus-id  1   (the ids are the same: "relpath:qualname:line")
    make_set.json  where it came from and what was left out, with counts

Choices, each because a fair benchmark needs it:
- Undocumented functions are not in the corpus: every document is some query's answer, so the
  set's size is the cap and nothing else (distractors would make it unbounded).
- Functions whose body is nothing but the docstring (and `pass` or `...`) are left out: after
  removing the docstring only the name would be left to find.
- A query text (compared without case or spacing) or a document text that occurs twice drops
  every pair that has it: two equal answers, or two questions with one answer, cannot be graded
  with one relevant document.
- Test folders (tests/, test/) and files test_*.py, *_test.py, conftest.py are not read.
- The cap keeps a seeded random sample (random.Random(0)) of the pairs, written in file order.

Each query is tagged (`lab eval` reports by tag): "name-word" when it holds a word of the
function's own name (split at snake_case and camelCase, lowercased, a trailing "s" dropped,
stopwords ignored: "Returns the hypercube graph" for `hypercube_graph`), else "no-name-word".
"""

from __future__ import annotations

import ast
import importlib.util
import json
import random
import re
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OmakaseError
from .code_tokens import STOPWORDS, WORD, split_identifier

MIN_WORDS = 4
SEED = 0
SET_FILES = ("corpus.jsonl", "queries.jsonl", "qrels.tsv", "make_set.json")
TEST_DIRS = {"tests", "test"}
SKIP_DIRS = {"__pycache__", "node_modules"}
# a sentence ends at . ! or ? before a space or the end, but not in "e.g." or "i.e."
SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s|$)")


@dataclass
class Pair:
    id: str
    query: str
    document: str
    path: str
    qualname: str
    line: int
    tag: str = ""


@dataclass
class BuiltSet:
    source: str
    root: Path
    pairs: list[Pair]
    files_read: int = 0
    files_unparsed: list[str] = field(default_factory=list)  # syntax errors, not UTF-8
    test_files_left_out: int = 0
    functions: int = 0  # every def seen
    documented: int = 0  # with a first sentence of at least MIN_WORDS words
    empty_bodies: int = 0  # documented, but nothing left once the docstring goes
    duplicates_dropped: int = 0
    name_word_queries: int = 0  # among the pairs kept
    capped_from: int = 0  # pairs before the cap

    def manifest(self, max_pairs: int) -> dict:
        return {"source": self.source, "root": str(self.root), "max": max_pairs, "seed": SEED,
                "min_words": MIN_WORDS, "queries": len(self.pairs), "documents": len(self.pairs),
                "files_read": self.files_read, "files_unparsed": self.files_unparsed,
                "test_files_left_out": self.test_files_left_out, "functions": self.functions,
                "documented": self.documented, "empty_bodies": self.empty_bodies,
                "duplicates_dropped": self.duplicates_dropped, "pairs_before_cap": self.capped_from,
                "name_word_queries": self.name_word_queries}


def find_source(package_or_path: str) -> Path:
    """A folder or .py file as given, or an installed package's folder found without importing it."""
    path = Path(package_or_path)
    if path.is_dir() or (path.is_file() and path.suffix == ".py"):
        return path
    if path.exists():
        raise OmakaseError(f"{package_or_path} is neither a folder nor a .py file; give a source folder or a package name")
    try:
        spec = importlib.util.find_spec(package_or_path) if package_or_path.isidentifier() else None
    except (ImportError, ValueError):
        spec = None
    if spec is None and "." in package_or_path:
        raise OmakaseError(f"{package_or_path!r}: give a top-level package name (finding a sub-package would import "
                           "its parents) or the sub-package's folder")
    if spec is None:
        raise OmakaseError(f"{package_or_path!r} is neither a folder nor an installed package; give a source "
                           "folder or the import name of a package installed in this Python")
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    if spec.origin and spec.origin.endswith(".py"):
        return Path(spec.origin)
    raise OmakaseError(f"package {package_or_path!r} has no Python source ({spec.origin}); give a source folder")


def is_test_file(rel: Path) -> bool:
    name = rel.name
    return (any(part in TEST_DIRS for part in rel.parts[:-1]) or name.startswith("test_")
            or name.endswith("_test.py") or name == "conftest.py")


def python_files(root: Path) -> list[Path]:
    """Every .py file under root, in sorted order of their relative paths (the same on every machine)."""
    if root.is_file():
        return [root]
    files = [p for p in root.rglob("*.py") if p.is_file()
             and not any(part in SKIP_DIRS or part.startswith(".") for part in p.relative_to(root).parts[:-1])]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def first_sentence(docstring: str) -> str | None:
    """The docstring's first sentence, its whitespace collapsed; None when shorter than MIN_WORDS words."""
    paragraph = docstring.strip().split("\n\n")[0]
    if paragraph.startswith(">>>"):
        return None
    end = SENTENCE_END.search(paragraph)
    sentence = " ".join((paragraph[: end.end()] if end else paragraph).split())
    return sentence if len(sentence.split()) >= MIN_WORDS else None


def _stems(words: list[str]) -> set[str]:
    return {w.lower().removesuffix("s") for w in words if w.lower() not in STOPWORDS}


def names_it(query: str, function_name: str) -> bool:
    """Does the query hold a word of the function's name? ("Sort the items" for sort_items: yes)"""
    return bool(_stems(WORD.findall(query)) & _stems(split_identifier(function_name)))


def _docstring_node(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", None)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0]
    return None


def _only_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    rest = node.body[1:]
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                           and s.value.value is Ellipsis) for s in rest)


def function_without_docstrings(lines: list[bytes], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The function's source (decorators, signature, body) with every docstring inside it cut out.

    ast's columns count UTF-8 bytes, so the cutting is done on bytes.
    """
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    cuts = [d for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and (d := _docstring_node(n)) is not None]
    piece = [bytearray(line) for line in lines[first - 1 : node.end_lineno]]
    for d in sorted(cuts, key=lambda d: (d.lineno, d.col_offset), reverse=True):  # from the end: offsets stay valid
        a, b = d.lineno - first, d.end_lineno - first
        piece[a] = piece[a][: d.col_offset] + piece[b][d.end_col_offset :]
        del piece[a + 1 : b + 1]
        if not piece[a].strip():  # the docstring had the line to itself: the line goes too
            del piece[a]
    return textwrap.dedent("\n".join(bytes(p).decode("utf-8").rstrip() for p in piece))


def pairs_in_file(source: bytes, rel: str) -> tuple[list[Pair], int, int, int]:
    """(pairs, functions, documented, empty bodies) of one file; raises SyntaxError or UnicodeDecodeError."""
    with warnings.catch_warnings():  # old code's invalid escapes ("\d") warn; they are not our business
        warnings.simplefilter("ignore")
        tree = ast.parse(source.decode("utf-8-sig"), filename=rel)
    lines = source.decode("utf-8-sig").split("\n")
    lines_bytes = [line.encode("utf-8") for line in lines]
    pairs, counts = [], [0, 0, 0]

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    counts[0] += 1
                    docstring = ast.get_docstring(child)
                    query = first_sentence(docstring) if docstring else None
                    if query:
                        counts[1] += 1
                        if _only_docstring(child):
                            counts[2] += 1
                        else:
                            tag = "name-word" if names_it(query, child.name) else "no-name-word"
                            pairs.append(Pair(f"{rel}:{qualname}:{child.lineno}", query,
                                              function_without_docstrings(lines_bytes, child), rel, qualname,
                                              child.lineno, tag))
                visit(child, qualname + ".")
            else:
                visit(child, prefix)  # defs under if/try/with keep their enclosing name

    visit(tree, "")
    return pairs, *counts


def _drop_duplicates(pairs: list[Pair]) -> list[Pair]:
    queries: dict[str, int] = {}
    documents: dict[str, int] = {}
    for p in pairs:
        key = " ".join(p.query.lower().split())
        queries[key] = queries.get(key, 0) + 1
        documents[p.document] = documents.get(p.document, 0) + 1
    return [p for p in pairs if queries[" ".join(p.query.lower().split())] == 1 and documents[p.document] == 1]


def build(package_or_path: str, max_pairs: int = 500) -> BuiltSet:
    if max_pairs < 1:
        raise OmakaseError(f"--max {max_pairs}: give at least 1")
    root = find_source(package_or_path)
    built = BuiltSet(package_or_path, root.resolve(), [])
    pairs: list[Pair] = []
    for path in python_files(root):
        rel = path.name if root.is_file() else path.relative_to(root).as_posix()
        if not root.is_file() and is_test_file(Path(rel)):
            built.test_files_left_out += 1
            continue
        try:
            found, functions, documented, empty = pairs_in_file(path.read_bytes(), rel)
        except (SyntaxError, UnicodeDecodeError, ValueError):  # ValueError: a NUL byte
            built.files_unparsed.append(rel)
            continue
        built.files_read += 1
        built.functions += functions
        built.documented += documented
        built.empty_bodies += empty
        pairs.extend(found)
    if not pairs:
        raise OmakaseError(f"{package_or_path}: no function with a docstring of {MIN_WORDS} or more words was found "
                           f"in {built.files_read} Python files read; give a package or folder with documented code")
    unique = _drop_duplicates(pairs)
    built.duplicates_dropped = len(pairs) - len(unique)
    if not unique:
        raise OmakaseError(f"{package_or_path}: every documented function repeats another's docstring or code; "
                           "nothing can be graded")
    built.capped_from = len(unique)
    if len(unique) > max_pairs:
        keep = sorted(random.Random(SEED).sample(range(len(unique)), max_pairs))
        unique = [unique[i] for i in keep]
    built.pairs = unique
    built.name_word_queries = sum(p.tag == "name-word" for p in unique)
    return built


def check_out(out: Path, force: bool) -> None:
    """Refuse before any work: a file where the folder should be, or a set there already (without --force)."""
    if out.exists() and not out.is_dir():
        raise OmakaseError(f"--out {out} is a file; give a folder for the set")
    there = [name for name in SET_FILES if (out / name).exists()]
    if there and not force:
        raise OmakaseError(f"--out {out} already holds a set ({', '.join(there)}); give another folder or add --force")


def write(built: BuiltSet, out: Path, max_pairs: int, force: bool = False) -> None:
    check_out(out, force)
    out.mkdir(parents=True, exist_ok=True)

    def jsonl(rows) -> str:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)

    meta = [{"path": p.path, "qualname": p.qualname, "line": p.line} for p in built.pairs]
    (out / "corpus.jsonl").write_text(jsonl({"_id": p.id, "title": "", "text": p.document, "metadata": m}
                                            for p, m in zip(built.pairs, meta)), encoding="utf-8")
    (out / "queries.jsonl").write_text(jsonl({"_id": p.id, "text": p.query, "metadata": m | {"tag": p.tag}}
                                             for p, m in zip(built.pairs, meta)), encoding="utf-8")
    (out / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{p.id}\t{p.id}\t1\n" for p in built.pairs),
                                   encoding="utf-8")
    (out / "make_set.json").write_text(json.dumps(built.manifest(max_pairs), indent=2) + "\n", encoding="utf-8")
