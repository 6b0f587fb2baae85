"""The Chroma index: persistence across a reopen, incremental re-index, resuming, and refusing bad paths."""

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import store
from omakase.lab.search import Searcher

FILES = {
    "stats.py": "def mean(values):\n    return sum(values) / len(values)\n\n\ndef count(xs):\n    return len(xs)\n",
    "web/debounce.js": "function debounce(fn, wait) {\n  let t;\n  return () => { clearTimeout(t); t = setTimeout(fn, wait); };\n}\n",
    "reports.sql": "SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id;\n\nSELECT AVG(total) FROM orders;\n",
}


def make_repo(root, files=FILES):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_index_persists_and_search_matches_exact(tmp_path, minilm):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    stats = store.index_folder(repo, db, minilm)
    assert (stats.files, stats.files_indexed, stats.chunks_added) == (3, 3, 5)
    # a fresh client on the same folder sees everything: the data is on disk
    answer = Searcher(db, lambda: minilm).search("wait until the user stops typing", k=3, check_exact=True)
    hits = answer.results
    assert hits[0].path == "web/debounce.js" and (hits[0].start_line, hits[0].end_line) == (1, 4)
    assert 0 < hits[0].score <= 1
    assert answer.exact_overlap == 1.0  # Chroma's approximate top 3 is the exact one


def test_reindex_touches_only_changed_files(tmp_path, minilm):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    store.index_folder(repo, db, minilm)
    again = store.index_folder(repo, db, minilm)
    assert (again.files_unchanged, again.files_indexed, again.chunks_added, again.chunks_total) == (3, 0, 0, 5)
    (repo / "stats.py").write_text("def median(xs):\n    xs = sorted(xs)\n    return xs[len(xs) // 2]\n")
    (repo / "reports.sql").unlink()
    changed = store.index_folder(repo, db, minilm)
    assert (changed.files_indexed, changed.files_unchanged, changed.files_removed) == (1, 1, 1)
    assert changed.chunks_total == 2  # median + debounce
    hits = Searcher(db, lambda: minilm).search("middle value", k=2).results
    assert {h.path for h in hits} == {"stats.py", "web/debounce.js"}
    assert any("median" in h.symbol for h in hits) and not any("def mean" in h.symbol for h in hits)


def test_interrupted_index_resumes_without_losing_work(tmp_path, minilm, ctrl_c_on_write):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    ctrl_c_on_write(2)  # Ctrl-C while the second batch of two is written
    with pytest.raises(KeyboardInterrupt):
        store.index_folder(repo, db, minilm, batch_size=2)
    assert Searcher(db).size == 2  # the first batch is kept
    resumed = store.index_folder(repo, db, minilm, batch_size=2)
    assert (resumed.chunks_added, resumed.chunks_total) == (3, 5)  # only what was missing is embedded


def test_bad_paths_are_refused(tmp_path, minilm, capsys):
    not_db = tmp_path / "notes"
    not_db.mkdir()
    (not_db / "todo.txt").write_text("hello")
    with pytest.raises(OmakaseError, match="not a Chroma database"):
        store.open_client(not_db, create=True)
    assert main(["lab", "search", "anything", "--db", str(not_db)]) == 2
    assert "not a Chroma database" in capsys.readouterr().err
    assert main(["lab", "search", "anything", "--db", str(tmp_path / "missing")]) == 2
    assert "not a Chroma database" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["lab", "index", str(empty), "--db", str(tmp_path / "db")]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds no .py, .js or .sql file" in err and "\n" not in err


def test_cli_index_then_search(tmp_path, minilm, capsys):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    assert main(["lab", "index", str(repo), "--db", str(db)]) == 0
    assert "3 indexed" in capsys.readouterr().out
    assert main(["lab", "index", str(repo), "--db", str(db)]) == 0
    assert "3 unchanged" in capsys.readouterr().out
    assert main(["lab", "search", "average of numbers", "--k", "2", "--check-exact", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "stats.py" in out and "overlap@2 with exact NumPy search" in out
