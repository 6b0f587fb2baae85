"""`lab make-set`: a BEIR set from a small synthetic package; only ast and json, no model."""

import json

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import beir
from omakase.lab.make_set import build, first_sentence, names_it, write

PACKAGE = {
    "__init__.py": "",
    "stats.py": '''
import math


def mean(values):
    """Return the arithmetic mean of the values.

    Raises ZeroDivisionError on an empty list.
    """
    return sum(values) / len(values)


def undocumented(x):
    return x + 1


def short(x):
    """Too short."""
    return x


def outer(items):
    """Count the items that are not None here."""
    def keep(item):
        """Tell whether one item should be kept."""
        return item is not None
    return sum(1 for i in items if keep(i))


def abstract_only():
    """Subclasses compute the answer in this hook."""
    pass
''',
    "shapes/__init__.py": "",
    "shapes/circle.py": '''
class Circle:
    """A round shape."""

    def area(self):
        """Compute the area of the circle, e.g. for painting it."""
        return math.pi * self.r ** 2

    def perimeter(self): "Compute the perimeter of the circle quickly."; return 2 * math.pi * self.r
''',
    "broken.py": "def oops(:\n    '''Never parsed by anyone here.'''\n",
    "twins.py": '''
def first_twin(a):
    """Return the same thing as the other one."""
    return a


def second_twin(b):
    """Return the same thing as the other one."""
    return [b]
''',
    "tests/test_stats.py": 'def test_mean():\n    """Check that the mean is right."""\n    assert 1\n',
}


def make_package(root, files=PACKAGE):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def read_set(folder):
    corpus = beir.load_corpus(folder / "corpus.jsonl")
    queries = beir.load_queries(folder / "queries.jsonl")
    return corpus, queries, beir.load_qrels(folder / "qrels.tsv", queries, corpus)


def test_queries_documents_and_qrels(tmp_path, capsys):
    src = make_package(tmp_path / "pkg")
    assert main(["lab", "make-set", str(src), "--out", str(tmp_path / "set")]) == 0
    printed = capsys.readouterr()
    corpus, queries, qrels = read_set(tmp_path / "set")
    ids = ["shapes/circle.py:Circle.area:5", "shapes/circle.py:Circle.perimeter:9",
           "stats.py:mean:5", "stats.py:outer:22", "stats.py:outer.keep:24"]
    assert list(queries) == ids and list(corpus) == ids  # files in sorted order, defs in source order
    assert qrels == {i: {i: 1} for i in ids}
    assert queries["stats.py:mean:5"].text == "Return the arithmetic mean of the values."
    assert queries["shapes/circle.py:Circle.area:5"].text == "Compute the area of the circle, e.g. for painting it."
    # the docstring goes, the signature and body stay, dedented
    assert corpus["stats.py:mean:5"].text == "def mean(values):\n    return sum(values) / len(values)"
    assert corpus["shapes/circle.py:Circle.area:5"].text.startswith("def area(self):\n    return math.pi")
    assert corpus["shapes/circle.py:Circle.perimeter:9"].text == "def perimeter(self): ; return 2 * math.pi * self.r"
    # a nested function's docstring is cut from its parent too: no document holds a query
    outer = corpus["stats.py:outer:22"].text
    assert "def keep(item):" in outer and '"""' not in outer
    assert all(q.text not in d.text for q in queries.values() for d in corpus.values())
    assert corpus["stats.py:mean:5"].metadata == {"path": "stats.py", "qualname": "mean", "line": 5}
    assert {q.id for q in queries.values() if q.tag == "name-word"} == {
        "stats.py:mean:5", "shapes/circle.py:Circle.area:5", "shapes/circle.py:Circle.perimeter:9"}
    assert {q.tag for q in queries.values()} == {"name-word", "no-name-word"}
    manifest = json.loads((tmp_path / "set" / "make_set.json").read_text())
    assert manifest["files_unparsed"] == ["broken.py"] and manifest["test_files_left_out"] == 1
    assert manifest["empty_bodies"] == 1 and manifest["duplicates_dropped"] == 2  # abstract_only; the twins
    assert manifest["functions"] == 10 and manifest["documented"] == 8
    assert manifest["name_word_queries"] == 3
    assert "5 queries and 5 documents" in printed.out and "1 skipped" in printed.out
    assert "broken.py" in printed.err


def test_undocumented_short_empty_and_duplicated_are_left_out(tmp_path):
    built = build(str(make_package(tmp_path / "pkg")))
    names = {p.qualname for p in built.pairs}
    assert not names & {"undocumented", "short", "abstract_only", "first_twin", "second_twin", "test_mean"}


def test_two_runs_are_byte_identical(tmp_path):
    src = make_package(tmp_path / "pkg")
    for out in ("a", "b"):
        assert main(["lab", "make-set", str(src), "--out", str(tmp_path / out), "--max", "3"]) == 0
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv", "make_set.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_the_cap_keeps_a_sample_in_file_order(tmp_path):
    src = make_package(tmp_path / "pkg", {"many.py": "".join(
        f'def f{i}(x):\n    """Return the value number {i} of the list."""\n    return x[{i}]\n\n' for i in range(50))})
    full, capped = build(str(src), 100), build(str(src), 10)
    assert len(full.pairs) == 50 and len(capped.pairs) == 10 and capped.capped_from == 50
    lines = [p.line for p in capped.pairs]
    assert lines == sorted(lines) and set(lines) < {p.line for p in full.pairs}
    assert lines != [p.line for p in full.pairs[:10]]  # a sample, not the first ten


def test_an_installed_package_is_found_by_name_without_importing_it(tmp_path, monkeypatch):
    make_package(tmp_path / "site" / "fakepkg_for_make_set")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    built = build("fakepkg_for_make_set")
    assert built.root == (tmp_path / "site" / "fakepkg_for_make_set").resolve() and len(built.pairs) == 5
    import sys

    assert "fakepkg_for_make_set" not in sys.modules


def test_first_sentence():
    assert first_sentence("Sort the list in place.  Stable.") == "Sort the list in place."
    assert first_sentence("Split  the\n   text at commas\n\nMore.") == "Split the text at commas"
    assert first_sentence("Return i.e. the largest value of all. Then stop.") == "Return i.e. the largest value of all."
    assert first_sentence("Too short.") is None
    assert first_sentence(">>> f(1) and so on") is None


def test_names_it():
    assert names_it("Sort the items by price", "sort_items")
    assert names_it("Return the maximum flow value", "maximumFlowValue")
    assert names_it("Compute all the shortest paths", "shortest_path")  # a trailing s is dropped
    assert not names_it("Tell whether one item should be kept", "keep")
    assert not names_it("Return the value that is in it", "in_it")  # stopwords do not count


def test_errors_are_one_line(tmp_path, capsys):
    def error(*args):
        assert main(["lab", "make-set", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("omakase: error: ") and "\n" not in err, err
        return err

    assert "neither a folder nor an installed package" in error("no_such_package_xyz", "--out", str(tmp_path / "o"))
    empty = make_package(tmp_path / "empty", {"a.py": "def f():\n    return 1\n"})
    assert "no function with a docstring" in error(str(empty), "--out", str(tmp_path / "o"))
    src = make_package(tmp_path / "pkg")
    assert main(["lab", "make-set", str(src), "--out", str(tmp_path / "set")]) == 0
    capsys.readouterr()
    assert "already holds a set" in error(str(src), "--out", str(tmp_path / "set"))
    assert main(["lab", "make-set", str(src), "--out", str(tmp_path / "set"), "--force", "--max", "2"]) == 0
    capsys.readouterr()
    assert len(read_set(tmp_path / "set")[1]) == 2
    (tmp_path / "file").write_text("x")
    assert "is a file" in error(str(src), "--out", str(tmp_path / "file"))
    with pytest.raises(OmakaseError, match="already holds"):
        write(build(str(src)), tmp_path / "set", 500)


def test_eval_reads_a_made_set_with_set(tmp_path, capsys, no_model):
    assert "give --set or" in _eval_error(capsys, "--set", str(tmp_path), "--corpus", str(tmp_path / "c.jsonl"))
    assert "no such folder" in _eval_error(capsys, "--set", str(tmp_path / "missing"))
    src = make_package(tmp_path / "pkg")
    assert main(["lab", "make-set", str(src), "--out", str(tmp_path / "set")]) == 0
    capsys.readouterr()
    assert main(["lab", "eval", "--set", str(tmp_path / "set"), "--method", "bm25", "--method", "random", "--json",
                 "--resamples", "50", "--out", str(tmp_path / "r")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_queries"] == 5 and result["n_docs"] == 5
    assert result["groups"] == {"all": 5, "name-word": 3, "no-name-word": 2}


def _eval_error(capsys, *args):
    assert main(["lab", "eval", *args]) == 2
    return capsys.readouterr().err


def test_a_bom_parses_and_blank_lines_in_a_body_stay(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "bom.py").write_bytes("\ufeffdef f(x):\n    '''Add one to the number é.'''\n    y = x\n\n    return y + 1\n"
                                 .encode("utf-8"))
    (pair,) = build(str(src)).pairs
    assert pair.query == "Add one to the number é." and pair.document == "def f(x):\n    y = x\n\n    return y + 1"
