"""Chunkers on small files whose function, block and statement spans are known by hand."""

import json

import pytest

from omakase.cli import main
from omakase.lab.chunkers import chunk_file
from omakase.lab.chunking_eval import span_scores, within_budget

PY = '''import os

LIMIT = 3


@cache
def small(a):
    return a


class Big:
    def one(self):
        x = 1
        y = 2
        if x:
            y = 3
            y = 4
            y = 5
        else:
            y = 6
        return y

    def two(self):
        return 2
'''

JS = '''import x from "y";

function add(a, b) {
  return a + b;
}

const mul = (a, b) => a * b;

class K {
  m() {
    return 1;
  }
}
'''

SQL = '''-- totals; not a statement end
SELECT SUM(total) FROM orders;

SELECT 'a;b'
FROM t;
/* x; */ DELETE FROM t
'''


def spans(tmp_path, name, text, strategy):
    path = tmp_path / name
    path.write_text(text)
    return [(c.start, c.end) for c in chunk_file(path, name, strategy)]


def test_functions_strategy_cuts_at_definitions(tmp_path):
    # imports and constants form one run; the decorator belongs to its function
    assert spans(tmp_path, "a.py", PY, "A") == [(1, 3), (6, 8), (11, 24)]
    # import; function; arrow function bound to a const; class
    assert spans(tmp_path, "b.js", JS, "A") == [(1, 1), (3, 5), (7, 7), (9, 13)]
    # the comment and the quoted ';' do not end statements
    assert spans(tmp_path, "c.sql", SQL, "A") == [(2, 2), (4, 5), (6, 6)]


def test_blocks_are_at_most_ten_lines_and_follow_statements(tmp_path):
    got = spans(tmp_path, "a.py", PY, "B")
    assert all(e - s + 1 <= 10 for s, e in got)
    # the 10-line method `one` (12-21) stays whole; the class line before it stands alone
    assert (12, 21) in got and (11, 11) in got
    assert got[0] == (1, 8)  # import, constant and the small function packed together


def test_windows_are_twenty_lines(tmp_path):
    assert spans(tmp_path, "a.py", PY, "C") == [(1, 20), (21, 24)]


def test_cast_keeps_what_fits_and_splits_what_does_not(tmp_path, monkeypatch):
    assert spans(tmp_path, "a.py", PY, "D") == [(1, 24)]  # everything fits 600 characters: one chunk
    import omakase.lab.chunkers as ch

    monkeypatch.setattr(ch, "CAST_BUDGET", 60)
    monkeypatch.setattr(ch.cast, "__defaults__", (60,))
    got = spans(tmp_path, "a.py", PY, "D")
    assert len(got) > 2 and all(ch.size(PY.splitlines(), s, e) <= 60 or e == s for s, e in got)
    assert (23, 24) in got  # method `two` survives whole


def test_span_measures_by_hand():
    relevant = {("f", i) for i in range(1, 11)}  # lines 1-10
    retrieved = {("f", i) for i in range(6, 16)}  # lines 6-15
    recall, precision, iou = span_scores(relevant, retrieved)
    assert (recall, precision) == (0.5, 0.5) and iou == pytest.approx(5 / 15)


def test_budget_cuts_the_last_chunk():
    from omakase.lab.chunkers import Chunk

    ranked = [Chunk("f", 1, 30, ""), Chunk("g", 1, 30, "")]
    assert within_budget(ranked, 40) == [("f", 1, 30), ("g", 1, 10)]


def test_chunking_cli_on_a_tiny_folder(tmp_path, minilm, capsys):
    code = tmp_path / "code"
    code.mkdir()
    (code / "a.py").write_text(PY)
    (code / "b.js").write_text(JS)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"_id": "q1", "text": "multiply two numbers", "relevant": [{"path": "b.js", "start_line": 7, "end_line": 7}]}) + "\n"
        + json.dumps({"_id": "q2", "text": "return the argument unchanged", "relevant": [{"path": "a.py", "start_line": 6, "end_line": 8}]}) + "\n"
    )
    out = tmp_path / "r"
    assert main(["lab", "chunking", "--code", str(code), "--queries", str(queries), "--k", "7", "--budget", "5",
                 "--out", str(out)]) == 0
    res = json.loads((out / "chunking.json").read_text())
    assert set(res["strategies"]) == set("ABCDF")
    a = res["strategies"]["A"]
    assert a["chunks"] == 7
    assert res["strategies"]["F"]["chunks"] == 9  # the class's two methods and its own line apart
    for v in res["strategies"].values():
        if v["chunks"] <= 7:  # k = 7 retrieves every chunk, so every relevant line
            assert v["metrics"]["recall@k"][0] == 1.0
        assert 0 <= v["metrics"]["IoU@N"][0] <= 1
        assert v["lines_seen"] == 1.0  # every chunk here is shorter than 256 word pieces
    assert (out / "chunking.png").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"_id": "q1", "text": "x", "relevant": [{"path": "nope.py", "start_line": 1, "end_line": 2}]}) + "\n")
    assert main(["lab", "chunking", "--code", str(code), "--queries", str(bad), "--out", str(tmp_path / "r2")]) == 2
    assert "bad.jsonl line 1: nope.py is not a file" in capsys.readouterr().err


def test_shipped_span_layout_points_at_the_snippets(tmp_path):
    from omakase.lab import beir
    from omakase.lab.chunking_eval import materialize_shipped

    code, qpath = materialize_shipped(tmp_path)
    corpus = beir.load_corpus(beir.SHIPPED / "corpus.jsonl")
    texts = {d.text.rstrip("\n") for d in corpus.values()}
    n = 0
    for line in qpath.read_text().splitlines():
        for span in json.loads(line)["relevant"]:
            lines = (code / span["path"]).read_text().splitlines()
            assert "\n".join(lines[span["start_line"] - 1 : span["end_line"]]) in texts
            n += 1
    assert n >= 84
