"""`lab eval` on a tiny BEIR collection, and every kind of bad input it must refuse in one line."""

import json

import pytest

from omakase.cli import main

CORPUS = [
    {"_id": "sum", "title": "", "text": "def sum_prices(items):\n    return sum(i.price for i in items)"},
    {"_id": "mean", "title": "", "text": "def mean(values):\n    return sum(values) / len(values)"},
    {"_id": "debounce", "title": "", "text": "function debounce(fn, wait) { let t; return () => { clearTimeout(t); t = setTimeout(fn, wait); }; }"},
    {"_id": "upsert", "title": "", "text": "INSERT INTO users (email) VALUES (:email) ON CONFLICT (email) DO NOTHING;"},
]
QUERIES = [
    {"_id": "q1", "text": "sum_prices items", "metadata": {"tag": "lexical"}},
    {"_id": "q2", "text": "average of numbers", "metadata": {"tag": "paraphrase"}},
    {"_id": "q3", "text": "wait until typing stops", "metadata": {"tag": "paraphrase"}},
]
QRELS = "query-id\tcorpus-id\tscore\nq1\tsum\t2\nq2\tmean\t2\nq2\tsum\t0\nq3\tdebounce\t2\n"


def write_set(folder, corpus=CORPUS, queries=QUERIES, qrels=QRELS):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels.tsv").write_text(qrels)
    return ["--corpus", str(folder / "corpus.jsonl"), "--queries", str(folder / "queries.jsonl"),
            "--qrels", str(folder / "qrels.tsv")]


def test_eval_all_methods_json(tmp_path, minilm, capsys):
    args = write_set(tmp_path / "set")
    assert main(["lab", "eval", *args, "--json", "--resamples", "200", "--out", str(tmp_path / "r")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_queries"] == 3 and result["groups"] == {"all": 3, "lexical": 1, "paraphrase": 2}
    rows = {(r["group"], r["method"], r["metric"]): r for r in result["summary"]}
    assert rows[("lexical", "bm25", "MRR@10")]["mean"] == 1.0  # the identifier is found
    assert rows[("all", "dense", "nDCG@10")]["mean"] > 0.8
    assert rows[("all", "ceiling", "P@3")]["mean"] == pytest.approx(1 / 3)
    assert len(result["tests"]) == 6 * 3  # every pair of 4 methods, in 3 groups
    for name in ("report.md", "summary.csv", "per_query.csv", "eval.json", "ndcg.png"):
        assert (tmp_path / "r" / name).exists()
    assert "not a finding" in (tmp_path / "r" / "report.md").read_text()


def test_eval_table_output_one_method(tmp_path, capsys):
    args = write_set(tmp_path / "set")
    assert main(["lab", "eval", *args, "--method", "bm25", "--method", "random", "--resamples", "100",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "nDCG@10" in out and "bm25" in out and "hybrid" not in out


def error_of(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("omakase: error:") and "\n" not in err
    return err


@pytest.mark.parametrize(
    "corpus_lines, expected",
    [
        ('{"_id": "a", "text": "x"}\n{"_id": "b", "text": \n', "corpus.jsonl line 2: not valid JSON"),
        ('{"_id": "a", "text": "x"}\n{"text": "y"}\n', "corpus.jsonl line 2: missing or non-string '_id'"),
        ('{"_id": "a", "text": "x"}\n{"_id": "a", "text": "y"}\n', "line 2: _id 'a' repeats line 1"),
        ("\n", "holds no documents"),
    ],
)
def test_malformed_corpus_names_the_line(tmp_path, capsys, corpus_lines, expected):
    args = write_set(tmp_path / "set")
    (tmp_path / "set" / "corpus.jsonl").write_text(corpus_lines)
    assert expected in error_of(capsys, ["lab", "eval", *args, "--out", str(tmp_path / "r")])


@pytest.mark.parametrize(
    "qrels, expected",
    [
        ("q1\tsum\n", "qrels.tsv line 1: expected 3 tab-separated columns"),
        ("q1\tsum\thigh\n", "score 'high' is not a whole number"),
        ("q1\tsum\t1\nq9\tsum\t1\n", "line 2: query-id 'q9' is not in the queries file"),
        ("q1\tnope\t1\n", "corpus-id 'nope' is not in the corpus file"),
        ("q1\tsum\t0\n", "no relevant pair"),
    ],
)
def test_malformed_qrels_names_the_line(tmp_path, capsys, qrels, expected):
    args = write_set(tmp_path / "set", qrels=qrels)
    assert expected in error_of(capsys, ["lab", "eval", *args, "--out", str(tmp_path / "r")])


def test_missing_files_and_unknown_method(tmp_path, capsys):
    args = write_set(tmp_path / "set")
    (tmp_path / "set" / "queries.jsonl").unlink()
    assert "queries file" in error_of(capsys, ["lab", "eval", *args, "--out", str(tmp_path / "r")])
    args = write_set(tmp_path / "set")
    assert "unknown method 'tfidf'" in error_of(capsys, ["lab", "eval", *args, "--method", "tfidf"])
    assert "all three" in error_of(capsys, ["lab", "eval", "--corpus", args[1]])
    (tmp_path / "set" / "queries.jsonl").write_text('{"_id": "q1"}\n')
    assert 'queries.jsonl line 1: missing or non-string \'text\'' in error_of(capsys, ["lab", "eval", *args])
