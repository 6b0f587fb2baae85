"""What a search answers: one result per function with its def line and a snippet, and the notes
that say when to doubt it (a partial index, a weak match). The hashing FakeEmbedder stands in for MiniLM."""

import json
import os
import socket

import pytest

from omakase.cli import main
from omakase.lab import search, store

# a long function: with a 40-word window it is cut into several windows that all mention totals
LONG = "def running_totals(rows):\n    \"\"\"Running totals of the rows.\"\"\"\n" + "".join(
    f"    total_{i} = sum(row.total for row in rows[:{i}])  # running totals up to {i}\n" for i in range(30)
) + "    return total_0\n"
FILES = {
    "ledger.py": "import math\n\n\n" + LONG + "\n\ndef mean_total(rows):\n    return sum(r.total for r in rows) / len(rows)\n",
    "report.py": "def print_report(rows):\n    for r in rows:\n        print(r.total)\n",
}


def make_repo(root, files=FILES):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def indexed(tmp_path, fake_embedder_class):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    store.index_folder(repo, db, fake_embedder_class("fake", window=40))
    return repo, db, search.Searcher(db, lambda: fake_embedder_class("fake", window=40))


def test_a_functions_windows_make_one_result_at_its_def_line(indexed):
    _, _, searcher = indexed
    windows = searcher.search("running totals of the rows total", 50, "bm25").results
    assert len(windows) == len({r.group for r in windows})  # no function twice
    got = searcher.col.get(where={"path": "ledger.py"}, include=["metadatas"])["metadatas"]
    in_long = [m for m in got if m.get("def_line") == 4]
    assert len(in_long) >= 3  # the long function was cut into windows, each knowing its def line
    for method in search.METHODS:
        results = searcher.search("running totals total_12 rows", 3, method).results
        assert len({r.group for r in results}) == len(results) == 3, method
        best = next(r for r in results if r.symbol == "def running_totals(rows):")
        assert best.def_line == 4 and best.start_line >= 4 and best.end_line <= 4 + len(LONG.splitlines())
        lines = FILES["ledger.py"].splitlines()
        assert best.snippet.split("\n")[0].strip() == lines[best.start_line - 1].strip()
        assert len(best.snippet.split("\n")) == min(search.SNIPPET_LINES, best.end_line - best.start_line + 1)


def test_the_best_window_gives_the_score_and_lines(indexed):
    _, _, searcher = indexed
    every = searcher.search("total_27 running totals up to 27", 200, "bm25")
    chunks = searcher.bm25.scores("total_27 running totals up to 27")
    # one_per_function keeps the first (best) window of each function: its score is the function's best
    best_window = max(chunks)
    assert every.results[0].score == pytest.approx(best_window) and every.results[0].def_line == 4
    assert every.results[0].start_line > 4  # a later window, not the function's first lines


def test_cli_text_shows_def_line_window_and_snippet(indexed, capsys):
    _, db, _ = indexed
    assert main(["lab", "search", "total_12", "--method", "bm25", "--k", "1", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("'total_12': bm25, top 1 of ") and lines[0].endswith(" chunks, one per function")
    place, symbol, span, score = [x.strip() for x in lines[1].split("  ") if x]
    assert (place, symbol) == ("ledger.py:4", "def running_totals(rows):")
    start, end = map(int, span.removeprefix("lines ").split("-"))
    window = FILES["ledger.py"].splitlines()[start - 1 : end]
    assert [line.strip() for line in lines[2:6]] == [line.strip() for line in window[:4]]
    assert any("total_12 " in line for line in window)  # the window shown is the one that matched


def test_a_search_during_indexing_says_the_index_is_partial(indexed, capsys):
    _, db, searcher = indexed
    assert searcher.search("totals", 1, "bm25").partial is None
    (db / store.LOCK).write_text(f"1 {socket.gethostname()}\n")  # process 1 is alive: a run is writing
    try:
        answer = searcher.search("totals", 1, "bm25")
        assert answer.partial == "an indexing run (process 1) is writing it now"
        assert answer.as_json()["partial"] == answer.partial
        assert "  note: the index is partial: an indexing run (process 1) is writing it now" in answer.as_text()
    finally:
        (db / store.LOCK).unlink()


def test_a_stopped_run_leaves_a_partial_index_until_a_rerun_finishes(tmp_path, fake_embedder_class, ctrl_c_on_write):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    ctrl_c_on_write(2)
    with pytest.raises(KeyboardInterrupt):
        store.index_folder(repo, db, fake_embedder_class("fake", window=40), batch_size=2)
    searcher = search.Searcher(db)
    assert searcher.search("totals", 1, "bm25").partial.startswith("its last indexing run stopped before the end")
    store.index_folder(repo, db, fake_embedder_class("fake", window=40))
    assert searcher.search("totals", 1, "bm25").partial is None  # asked again at each search


def test_a_query_with_no_known_word_and_a_low_score_is_a_weak_match(indexed, monkeypatch):
    _, _, searcher = indexed
    for query in ("🙂🙂🙂", "？！。", "——", "数据库连接"):
        assert searcher.search(query, 3, "dense").weak_match, query
    assert not searcher.search("running totals", 3, "dense").weak_match  # words the index holds
    assert not searcher.search("🙂🙂🙂", 3, "bm25").weak_match  # bm25 answers nothing rather than something weak
    # a model with a measured threshold: a best score above it is no weak match, whatever the words
    monkeypatch.setitem(search.WEAK_BELOW, "fake", -1.0)
    assert not searcher.search("🙂🙂🙂", 3, "dense").weak_match
    monkeypatch.setitem(search.WEAK_BELOW, "fake", 2.0)
    answer = searcher.search("🙂🙂🙂", 3, "hybrid")
    assert answer.weak_match and answer.as_json()["weak_match"] is True
    assert any(line.startswith("  note: weak match: no word of the query is in the index") for line in answer.as_text())


def test_the_resident_server_answers_what_json_prints(indexed, capsys, no_model):
    import threading
    import time

    uvicorn = pytest.importorskip("uvicorn", reason="the lab server needs the web extra (fastapi, uvicorn)")
    pytest.importorskip("fastapi", reason="the lab server needs the web extra (fastapi, uvicorn)")

    from omakase.lab import serve

    _, db, searcher = indexed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(serve.create_app(searcher), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        # the command line, asking the server: no model is made in this process (no_model)
        args = ["lab", "search", "running totals", "mean total", "--json", "--k", "2", "--server", url]
        assert main(args) == 0
        remote = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        local = [searcher.search(q, 2, "dense").as_json() for q in ("running totals", "mean total")]
        assert remote == local and len(remote[0]["results"]) == 2
        assert main(["lab", "search", "x", "--method", "bm25", "--lang", "rust", "--server", url]) == 2
        assert capsys.readouterr().err == ("omakase: error: unknown language 'rust' for --lang; "
                                           "choose from javascript, python, sql\n")
        assert main(["lab", "search", "total_3", "--method", "bm25", "--k", "1", "--server", url]) == 0
        assert capsys.readouterr().out.splitlines()[1].split()[0] == "ledger.py:4"
    finally:
        server.should_exit = True
        thread.join(10)


def test_with_no_server_the_search_runs_here(indexed, capsys):
    _, db, _ = indexed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    assert main(["lab", "search", "total_3", "--method", "bm25", "--k", "1", "--db", str(db),
                 "--server", f"http://127.0.0.1:{port}"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(f"omakase: note: no lab server answers at http://127.0.0.1:{port}")
    assert out.splitlines()[1].split()[0] == "ledger.py:4"


def test_threads_are_bounded_by_the_cores(tmp_path, no_model, capsys):
    for args in (["lab", "search", "x", "--threads", "100000"], ["lab", "index", str(tmp_path), "--threads", "100000"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"less than or equal to {os.cpu_count()}" in err, err
    assert main(["lab", "serve", "--threads", "0"]) == 2
    assert "greater than or equal to 1" in capsys.readouterr().err


def test_serve_checks_the_database_and_port_before_loading(tmp_path, fake_embedder_class, no_model, capsys):
    db = tmp_path / "db"
    store.index_folder(make_repo(tmp_path / "repo"), db, fake_embedder_class("minilm"))
    assert main(["lab", "serve", "--db", str(tmp_path / "missing"), "--dry-run"]) == 2
    assert "does not exist, so it is not a Chroma database" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["lab", "serve", "--db", str(db), "--port", str(port)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"omakase: error: cannot listen on 127.0.0.1:{port}") and err.count("\n") == 1
    assert main(["lab", "serve", "--db", str(db), "--port", str(port), "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("dry run: every option checked")
