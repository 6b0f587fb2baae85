"""`omakase lab search`: several queries, --json, three methods, filters, signatures, --check-exact.

One small index built with the hashing FakeEmbedder (under the name "minilm", so the CLI's
default embedder matches it) serves the whole module; the CLI's model is the fake too.
"""

import io
import json

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import search, store
from omakase.lab.retrievers import rrf, rrf_ranked

FILES = {
    "stats.py": ("import functools\n\n\n# the arithmetic mean\n@functools.lru_cache()\n"
                 "def mean_of_prices(prices):\n    return sum(prices) / len(prices)\n\n\n"
                 "class PriceBook:\n    pass\n"),
    "tests/test_stats.py": ("from stats import mean_of_prices\n\n\ndef test_mean_of_prices():\n"
                            "    assert mean_of_prices([2]) == 2\n"),
    "test_top.py": "def test_mean_of_prices_again():\n    assert True\n",
    "stats_test.py": "def check_mean_of_prices():\n    assert True\n",
    "web/debounce.js": ("// wait until typing stops\nexport function debounce(fn, wait) {\n  let t;\n"
                        "  return () => { clearTimeout(t); t = setTimeout(fn, wait); };\n}\n"),
    "web/debounce.test.js": "test('debounce waits', () => {\n  debounce(() => 1, 10);\n});\n",
    "web/debounce.spec.js": "describe('debounce', () => {\n  it('waits', () => debounce(() => 1, 10));\n});\n",
    "sql/reports.sql": ("-- totals\nCREATE VIEW price_totals AS SELECT customer_id, SUM(price) FROM orders "
                        "GROUP BY customer_id;\n"),
}
TEST_PATHS = {"tests/test_stats.py", "test_top.py", "stats_test.py", "web/debounce.test.js", "web/debounce.spec.js"}


@pytest.fixture(scope="module")
def db(tmp_path_factory, fake_embedder_class):
    root = tmp_path_factory.mktemp("search")
    for rel, text in FILES.items():
        (root / "repo" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "repo" / rel).write_text(text)
    store.index_folder(root / "repo", root / "db", fake_embedder_class("minilm"))
    return root / "db"


@pytest.fixture(scope="module")
def searcher(db, fake_embedder_class):
    return search.Searcher(db, lambda: fake_embedder_class("minilm"))


def run(capsys, *args, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", stdin)
    code = main(["lab", "search", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]  # fails on anything on stdout that is not JSON


class Terminal(io.StringIO):
    def isatty(self):
        return True


# ---------------------------------------------------------------- several queries, one model

def test_several_queries_as_arguments_share_one_model(db, fake_model, capsys):
    code, out, _ = run(capsys, "mean_of_prices", "debounce", "--k", "2", "--db", str(db))
    assert code == 0 and len(fake_model) == 1
    lines = out.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == [
        "'mean_of_prices': dense, top 2 of 11 chunks, one per function",
        "'debounce': dense, top 2 of 11 chunks, one per function"]
    rows = [n for n, line in enumerate(lines) if line.startswith("  ") and not line.startswith("      ")]
    assert len(rows) == 4
    for n in rows:  # path:def_line  symbol  lines a-b  score, then the window's first lines
        place, symbol, span, score = [x.strip() for x in lines[n].split("  ") if x]
        path, line = place.split(":")
        text = FILES[path].splitlines()
        assert symbol == text[int(line) - 1].strip() and 0 < float(score) <= 1
        start, end = map(int, span.removeprefix("lines ").split("-"))
        assert start <= int(line) <= end
        assert lines[n + 1].strip() == text[start - 1].strip()  # the snippet starts where the match starts


def test_queries_from_standard_input_one_per_line(db, fake_model, capsys, monkeypatch):
    code, out, err = run(capsys, "--json", "--db", str(db), stdin=io.StringIO("mean_of_prices\n\n  debounce \n"),
                         monkeypatch=monkeypatch)
    assert code == 0 and err == "" and len(fake_model) == 1
    assert [a["query"] for a in json_lines(out)] == ["mean_of_prices", "debounce"]  # blank lines are no query


def test_interactive_answers_line_by_line_until_an_empty_line(db, fake_model, capsys, monkeypatch):
    stdin = Terminal("debounce\nPriceBook\n\nnever asked\n")
    code, out, err = run(capsys, "--db", str(db), "--k", "1", stdin=stdin, monkeypatch=monkeypatch)
    assert code == 0 and len(fake_model) == 1
    assert [line for line in out.splitlines() if line.startswith("'")] == [
        "'debounce': dense, top 1 of 11 chunks, one per function",
        "'PriceBook': dense, top 1 of 11 chunks, one per function"]
    assert err.count("search> ") == 3 and "dense search over 11 chunks" in err  # prompts go to stderr
    # --interactive reads a pipe line by line too, until its end
    code, out, err = run(capsys, "-i", "--json", "--method", "bm25", "--db", str(db),
                         stdin=io.StringIO("debounce\nPriceBook"), monkeypatch=monkeypatch)
    assert code == 0 and err == "" and [a["query"] for a in json_lines(out)] == ["debounce", "PriceBook"]


def test_a_bad_line_in_interactive_mode_costs_that_line_only(db, capsys, monkeypatch, fake_embedder_class):
    import omakase.lab.embedders as embedders

    class Picky(fake_embedder_class):
        def embed(self, texts):
            if texts == ["???"]:
                raise OmakaseError("'???' has no character Ming knows")
            return super().embed(texts)

    monkeypatch.setattr(embedders, "make_embedder", lambda name, checkpoint=None: Picky(name))
    code, out, err = run(capsys, "-i", "--json", "--db", str(db), stdin=io.StringIO("???\ndebounce\n"),
                         monkeypatch=monkeypatch)
    assert code == 0 and err == "omakase: error: '???' has no character Ming knows\n"
    assert [a["query"] for a in json_lines(out)] == ["debounce"]


# ---------------------------------------------------------------- --json, methods, bm25 without a model

def test_json_is_one_object_per_query_and_nothing_else(db, fake_model, capsys):
    code, out, err = run(capsys, "debounce", "PriceBook", "--json", "--k", "3", "--method", "hybrid", "--db", str(db))
    answers = json_lines(out)
    assert code == 0 and err == "" and len(answers) == 2
    a = answers[0]
    assert set(a) == {"query", "method", "k", "searched", "results"}
    assert (a["query"], a["method"], a["k"], a["searched"], len(a["results"])) == ("debounce", "hybrid", 3, 11, 3)
    for r in a["results"]:
        assert set(r) == {"path", "symbol", "def_line", "start_line", "end_line", "score", "snippet", "method"}
        assert isinstance(r["score"], float) and r["method"] == "hybrid"
    r = next(r for r in a["results"] if r["path"] == "web/debounce.js")
    assert (r["def_line"], r["start_line"], r["end_line"]) == (2, 1, 5)  # the comment on line 1 describes it
    assert r["symbol"] == "export function debounce(fn, wait) {"
    assert r["snippet"] == "\n".join(FILES["web/debounce.js"].splitlines()[: search.SNIPPET_LINES])
    assert [x["score"] for x in a["results"]] == sorted((x["score"] for x in a["results"]), reverse=True)


@pytest.mark.parametrize("method", search.METHODS)
def test_each_method_finds_the_definition(searcher, method):
    answer = searcher.search("PriceBook", 3, method)
    assert answer.method == method and answer.results[0].symbol == "class PriceBook:"
    assert all(r.method == method for r in answer.results)
    scores = [r.score for r in answer.results]
    assert scores == sorted(scores, reverse=True)


def test_bm25_returns_only_chunks_sharing_a_word(searcher):
    answer = searcher.search("debounce", 10, "bm25")
    assert {r.path for r in answer.results} == {"web/debounce.js", "web/debounce.test.js", "web/debounce.spec.js"}
    assert searcher.search("the of and", 10, "bm25").results == []  # only stopwords: nothing matches, no crash


def test_hybrid_is_reciprocal_rank_fusion_of_dense_and_bm25(searcher):
    q = "mean_of_prices"
    dense = [r.id for r in searcher.search(q, search.HYBRID_DEPTH, "dense").results]
    lexical = [r.id for r in searcher.search(q, search.HYBRID_DEPTH, "bm25").results]
    fused = searcher.search(q, 4, "hybrid").results
    assert [(r.id, pytest.approx(r.score)) for r in fused] == rrf_ranked(dense, lexical)[:4]
    assert fused[0].score == pytest.approx(sum(1 / (60 + lst.index(fused[0].id) + 1) for lst in (dense, lexical)
                                               if fused[0].id in lst))


def test_rrf_of_ranked_lists_agrees_with_the_matrix_version():
    import numpy as np

    dense = np.array([[0.9, 0.1, 0.5, 0.3]])
    bm25 = np.array([[0.0, 2.0, 1.0, 0.0]])
    matrix = rrf((bm25, bm25 > 0), (dense, None))[0]
    ranked = dict(rrf_ranked(["d1", "d2"], ["d0", "d2", "d3", "d1"]))  # bm25's matches, then dense's full order
    assert [ranked[f"d{i}"] for i in range(4)] == pytest.approx(list(matrix))


def test_bm25_never_loads_the_model(db, no_model, capsys):
    code, out, err = run(capsys, "debounce", "--method", "bm25", "--db", str(db))
    assert code == 0 and err == "" and "web/debounce.js:2 export function debounce(fn, wait) {" in " ".join(out.split())


def test_the_stored_vectors_must_be_the_models(db, fake_embedder_class):
    other = search.Searcher(db, lambda: fake_embedder_class("minilm", dim=32))
    assert other.search("x", 1, "bm25").results == []  # bm25 does not care
    with pytest.raises(OmakaseError, match="built with embedder minilm"):
        other.search("debounce", 1, "dense")


# ---------------------------------------------------------------- filters, applied before the top k

def test_path_glob_filter(searcher):
    answer = searcher.search("debounce", 10, "dense", search.check_filters(["web/*.js"]))
    assert answer.searched == 3 and {r.path for r in answer.results} == {
        "web/debounce.js", "web/debounce.test.js", "web/debounce.spec.js"}
    two = search.check_filters(["sql/*", "stats.py"])  # any glob may match
    assert {r.path for r in searcher.search("totals", 10, "bm25", two).results} == {"sql/reports.sql"}
    assert searcher.search("debounce", 10, "dense", search.check_filters(["nowhere/*"])).results == []


def test_lang_filter(searcher):
    assert {r.path for r in searcher.search("debounce", 10, "dense", search.check_filters(langs=["SQL"])).results} == \
        {"sql/reports.sql"}
    py = searcher.search("debounce", 20, "hybrid", search.check_filters(langs=["python"])).results
    assert py and all(r.path.endswith(".py") for r in py)


def test_no_tests_filter(searcher):
    answer = searcher.search("mean_of_prices debounce", 20, "dense", search.Filters(no_tests=True))
    kept = {r.path for r in answer.results}
    assert kept == {"stats.py", "web/debounce.js", "sql/reports.sql"}
    for path in TEST_PATHS | {"a/test/x.py", "src/__tests__/x.js", "test_x.py", "x_test.py", "a/x.spec.js"}:
        assert search.is_test_path(path), path
    for path in ("stats.py", "testing.py", "contest/x.py", "latest_tests.md.py", "web/debounce.js", "test.py"):
        assert not search.is_test_path(path), path


def test_filters_are_applied_before_the_top_k(searcher):
    best = searcher.search("mean_of_prices", 1, "dense").results[0]
    assert best.path in TEST_PATHS  # the unfiltered winner is a test
    answer = searcher.search("mean_of_prices", 1, "dense", search.Filters(no_tests=True))
    assert [r.path for r in answer.results] == ["stats.py"]  # not an empty list left over from the top 1
    sql = searcher.scope(search.check_filters(langs=["sql"]))
    assert (sql.paths, sql.ids, sql.size) == ({"sql/reports.sql"}, ["sql/reports.sql:1-2"], 1)  # Chroma asked among these
    every = searcher.scope(search.check_filters(["*"]))
    assert (every.paths, every.ids, every.size) == (None, None, 11)  # a filter that keeps all is no filter


def test_cli_filters(db, fake_model, capsys):
    code, out, _ = run(capsys, "mean_of_prices", "--json", "--k", "10", "--no-tests", "--lang", "python",
                       "--path", "*.py", "--db", str(db))
    assert code == 0 and {r["path"] for r in json_lines(out)[0]["results"]} == {"stats.py"}


# ---------------------------------------------------------------- signatures

@pytest.mark.parametrize("path, text, expected", [
    ("a.py", "# the mean\n@functools.lru_cache()\n@other\ndef mean(xs):\n    return 1", (13, "def mean(xs):")),
    ("a.py", "@dataclass\nclass Hit:\n    id: str", (11, "class Hit:")),
    ("a.py", "    async def fetch(url):\n        pass", (10, "async def fetch(url):")),
    ("a.py", "import os\nimport sys", (10, "import os")),
    ("a.py", '"""A module."""\n\nX = 1\n\n\ndef f():\n    pass', (15, "def f():")),
    ("a.py", "# only a comment", (10, "# only a comment")),
    ("a.js", "/**\n * Debounce.\n */\nexport function debounce(fn, wait) {\n}",
     (13, "export function debounce(fn, wait) {")),
    ("a.js", "// sum\nconst sumPrices = (items) => items.length;", (11, "const sumPrices = (items) => items.length;")),
    ("a.js", "  if (x) {\n  }\n  async load(url) {\n  }", (12, "async load(url) {")),
    ("a.sql", "-- totals\nSELECT 1;", (11, "SELECT 1;")),
    ("a.sql", "-- view\ncreate or replace view v as\nselect 1;", (11, "create or replace view v as")),
])
def test_signature_is_the_definition_line_not_a_decorator_or_comment(path, text, expected):
    from omakase.lab.signatures import signature

    assert signature(text, 10, path) == expected


def test_results_show_the_signature_and_jump_to_its_line(searcher):
    r = next(r for r in searcher.search("mean_of_prices", 10, "dense").results if r.path == "stats.py"
             and "mean" in r.symbol)
    # the chunk starts at the comment above (4), then the decorator (5); the result jumps to the def (6)
    assert (r.start_line, r.def_line, r.end_line, r.symbol) == (4, 6, 7, "def mean_of_prices(prices):")


# ---------------------------------------------------------------- --check-exact

def test_check_exact_only_when_asked(db, fake_model, capsys):
    code, out, _ = run(capsys, "debounce", "--k", "2", "--db", str(db))
    assert code == 0 and "overlap" not in out
    code, out, _ = run(capsys, "debounce", "--k", "2", "--check-exact", "--db", str(db))
    assert code == 0 and out.splitlines()[-1] == "  overlap@2 with exact NumPy search: 1.00"
    code, out, _ = run(capsys, "debounce", "--json", "--check-exact", "--method", "hybrid", "--db", str(db))
    assert json_lines(out)[0]["exact_overlap"] == 1.0


def test_exact_top_k_respects_the_filters(searcher):
    import numpy as np

    qv = searcher.embedder.embed(["debounce"]).vectors[0]
    exact = searcher.exact_top_k(qv, 3, searcher.scope(search.check_filters(langs=["python"])).paths)
    assert len(exact) == 3 and all(i.split(":")[0].endswith(".py") for i in exact)
    ids, paths, vecs = searcher.vectors()
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0) and len(ids) == len(paths) == searcher.size


# ---------------------------------------------------------------- refused, before the model loads

def test_bad_input_is_one_line_before_the_model_loads(db, tmp_path, no_model, capsys, monkeypatch):
    def refused(*args, stdin=None):
        code, out, err = run(capsys, *args, stdin=stdin, monkeypatch=monkeypatch)
        assert code == 2 and out == "" and err.startswith("omakase: error: ") and err.count("\n") == 1, err
        return err.strip().removeprefix("omakase: error: ")

    d = ["--db", str(db)]
    assert refused("x", "--lang", "rust", *d) == "unknown language 'rust' for --lang; choose from javascript, python, sql"
    assert refused("x", "--path", "", *d).startswith("--path '' matches nothing")
    assert refused("x", "--method", "sparse", *d) == "unknown method 'sparse'; choose from dense, bm25, hybrid"
    assert refused("x", "--method", "bm25", "--check-exact", *d).startswith("--check-exact compares")
    assert refused("x", " ", *d) == "query 2 of 2 is empty; say what you are looking for, in words or identifiers"
    assert refused("x", "--interactive", *d) == "give queries as arguments or ask them with --interactive, not both"
    assert refused(*d, stdin=io.StringIO("\n  \n")).startswith("no query: give one as an argument")
    missing = tmp_path / "no-such-db"
    assert refused("x", "--db", str(missing)).startswith(f"{missing} does not exist, so it is not a Chroma database")
    assert not missing.exists()
