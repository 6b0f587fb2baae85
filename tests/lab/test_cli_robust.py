"""The lab's command line on bad input: one line, exit 2, and before the embedding model loads;
warnings and a summary for odd files; Ctrl-C; report folders numbered like runs."""

import socket

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import store
from omakase.report_folder import next_report_dir

GOOD = {"stats.py": "def mean(xs):\n    return sum(xs) / len(xs)\n", "q.sql": "SELECT 1;\nSELECT 2;\n"}


def make_repo(root, files=GOOD):
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


def one_line_error(capsys, *args) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("omakase: error: ") and "\n" not in err, err
    return err.removeprefix("omakase: error: ")


def test_cli_index_warns_counts_and_goes_on(tmp_path, fake_model, capsys):
    repo = make_repo(tmp_path / "repo", {**GOOD, "old.py": 'print "hi"\n', "blob.js": b"\x89PNG\r\n\x1a\n\x00\x00",
                                         "empty.py": ""})
    assert main(["lab", "index", str(repo), "--db", str(tmp_path / "db")]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "omakase: warning: blob.js: binary (it holds NUL bytes); skipped",
        "omakase: warning: old.py line 1: Python syntax error (Missing parentheses in call to 'print'. "
        "Did you mean print(...)?); cut into 20-line windows instead",
    ]
    out = captured.out.splitlines()  # each line whole, however long: a log never cuts a number in two
    assert out[0].startswith("5 files: 3 indexed (1 in 20-line windows: no parse), 0 unchanged, 0 removed, "
                             "1 empty; 4 chunks added") and len(out[0]) > 80
    assert out[1] == "skipped: 1 file (1 not text)"


def test_bad_flags_are_refused_before_the_model_loads(tmp_path, no_model, capsys):
    repo, db = make_repo(tmp_path / "repo"), str(tmp_path / "db")
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", db, "--strategy", "Z") == \
        "unknown chunking strategy 'Z'; choose from A, B, C, D, F"
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", db, "--embedder", "bert") == \
        "unknown embedder 'bert'; choose minilm or ming"
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", db, "--embedder", "ming").startswith(
        "--embedder ming needs --checkpoint PATH")
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", db, "--exclude", "") == \
        "exclude pattern '' matches nothing; give a glob such as '*.min.js' or 'vendor/'"
    for query in ("", "   "):
        assert one_line_error(capsys, "lab", "search", query, "--db", db) == \
            "the query is empty; say what you are looking for, in words or identifiers"
    assert "--k" in one_line_error(capsys, "lab", "search", "sum", "--k", "0", "--db", db)
    assert one_line_error(capsys, "lab", "similarity", "--item", "", "--item", "dog", "--out", str(tmp_path / "s")) == \
        "item 1 is empty; give some text to embed"
    assert "--resamples" in one_line_error(capsys, "lab", "eval", "--resamples", "0", "--out", str(tmp_path / "e"))
    assert "--seed" in one_line_error(capsys, "lab", "eval", "--seed", "-1", "--out", str(tmp_path / "e"))
    assert one_line_error(capsys, "lab", "chunking", "--strategies", "", "--out", str(tmp_path / "c")) == \
        "--strategies is empty; give some of ABCDF"
    assert not (tmp_path / "s").exists() and not (tmp_path / "e").exists()  # nothing written either


def test_a_wrong_database_is_refused_before_the_model_loads(tmp_path, fake_model, monkeypatch, capsys):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    assert main(["lab", "index", str(repo), "--db", str(db), "--strategy", "B"]) == 0
    capsys.readouterr()
    import omakase.lab.embedders as embedders

    monkeypatch.setattr(embedders, "make_embedder", lambda *a: pytest.fail("the model was loaded"))
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", str(db)) == (
        "this database was built with chunking strategy B (blocks), not F (function windows); "
        "index with strategy B again, or into a new database folder")
    other = make_repo(tmp_path / "other", {"else.py": "x = 1\n"})
    assert one_line_error(capsys, "lab", "index", str(other), "--db", str(db), "--strategy", "B") == (
        f"this database indexes {repo.resolve()}, not {other.resolve()} (only 0% of its files are there); "
        f"if this is the same code moved, pass --rebind; for another folder, use a new database folder")
    (db / store.LOCK).write_text(f"1 {socket.gethostname()}\n")  # process 1 is always alive
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", str(db), "--strategy", "B") == (
        f"{db} is being indexed by another run (process 1); wait for it to finish, "
        f"or delete {db / store.LOCK} if that run is gone")
    (db / store.LOCK).unlink()
    assert one_line_error(capsys, "lab", "search", "mean", "--db", str(db), "--embedder", "ming",
                          "--checkpoint", str(tmp_path / "never-read.json")) == (
        "this database was built with embedder minilm (64-d), not ming; use the same embedder, or a new database folder")
    empty = tmp_path / "empty-db"
    store.open_client(empty, create=True)
    assert one_line_error(capsys, "lab", "search", "mean", "--db", str(empty)) == \
        "this Chroma database has no 'omakase_code' collection; index a folder into it first"


def test_ctrl_c_during_indexing_says_a_rerun_resumes(tmp_path, fake_model, ctrl_c_on_write, monkeypatch, capsys):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    monkeypatch.setattr(store, "EMBED_BATCH", 1)  # three chunks, three batches, three writes
    ctrl_c_on_write(2)  # the first batch is written, the second is not
    assert main(["lab", "index", str(repo), "--db", str(db)]) == 130
    err = capsys.readouterr().err.strip()
    assert err == ("omakase: interrupted; every batch embedded so far is saved, so running the same command again "
                   "resumes where this run stopped")
    assert not (db / store.LOCK).exists()
    assert main(["lab", "index", str(repo), "--db", str(db)]) == 0
    # the first batch was q.sql's shortest statement: the file is finished, not redone
    assert "2 files: 2 indexed (1 resumed), 0 unchanged, 0 removed; 2 chunks added" in capsys.readouterr().out


def test_cli_search_finds_what_was_indexed(tmp_path, fake_model, capsys):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    assert main(["lab", "index", str(repo), "--db", str(db)]) == 0
    assert main(["lab", "search", "def mean(xs):", "--k", "1", "--check-exact", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "stats.py" in out and "overlap@1 with exact NumPy search: 1.00" in out


def test_report_folders_are_numbered_like_runs(tmp_path, fake_model, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["lab", "similarity", "--item", "salt", "--item", "sugar"]
    assert main(args) == 0 and main(args) == 0  # the second run does not meet the first one's report
    assert sorted(p.name for p in (tmp_path / "lab-reports").iterdir()) == ["similarity-001", "similarity-002"]
    assert (tmp_path / "lab-reports" / "similarity-002" / "report.md").exists()
    capsys.readouterr()
    out = ["--out", str(tmp_path / "lab-reports" / "similarity-001")]
    assert "--force" in one_line_error(capsys, *args, *out)  # a folder named by hand is still protected
    assert main([*args, *out, "--force"]) == 0


def test_next_report_dir(tmp_path):
    assert next_report_dir("eval", tmp_path / "r") == tmp_path / "r" / "eval-001"
    assert next_report_dir("eval", tmp_path / "r") == tmp_path / "r" / "eval-002"
    assert next_report_dir("chunking", tmp_path / "r") == tmp_path / "r" / "chunking-001"
    (tmp_path / "f").write_text("")
    with pytest.raises(OmakaseError, match="is a file, so reports cannot go in it"):
        next_report_dir("eval", tmp_path / "f")


def test_an_empty_query_in_a_queries_file_is_refused(tmp_path):
    from omakase.lab import beir

    path = tmp_path / "queries.jsonl"
    path.write_text('{"_id": "q1", "text": "sum of prices"}\n{"_id": "q2", "text": "  "}\n')
    with pytest.raises(OmakaseError, match="queries.jsonl line 2: the query text is empty; write what is searched for"):
        beir.load_queries(path)


# ---------------------------------------------------------------- every input answered: one line, exit 2

def test_similarity_file_that_is_binary_or_latin_1(tmp_path, no_model, capsys):
    binary, latin = tmp_path / "items.bin", tmp_path / "items.txt"
    binary.write_bytes(b"salt\x00\x01\x02\nsugar\n")
    latin.write_bytes("café\nthé\n".encode("latin-1"))
    assert one_line_error(capsys, "lab", "similarity", "--file", str(binary), "--out", str(tmp_path / "r")) == \
        f"--file {binary}: binary (it holds NUL bytes); give a UTF-8 text file"
    assert one_line_error(capsys, "lab", "similarity", "--file", str(latin), "--out", str(tmp_path / "r")) == \
        f"--file {latin}: not UTF-8 text (byte 0xe9 at offset 3); save it as UTF-8"
    assert not (tmp_path / "r").exists()


def test_a_db_whose_sqlite_file_is_not_a_database(tmp_path, no_model, capsys):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    db.mkdir()
    (db / store.CHROMA_MARKER).write_text("these are my notes, not a database\n")
    for args in (["lab", "index", str(repo), "--db", str(db)], ["lab", "search", "mean", "--db", str(db)]):
        assert one_line_error(capsys, *args).startswith(
            f"{db / store.CHROMA_MARKER} cannot be opened as a Chroma database (")
    assert not (db / store.LOCK).exists()


def test_eval_on_a_binary_corpus_and_bounded_resamples(tmp_path, no_model, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blob = tmp_path / "corpus.jsonl"
    blob.write_bytes(bytes(range(256)))
    assert one_line_error(capsys, "lab", "eval", "--corpus", str(blob), "--queries", str(blob), "--qrels", str(blob)) \
        == f"documents file {blob}: binary (it holds NUL bytes); give a UTF-8 text file"
    assert "less than or equal to 100000" in one_line_error(capsys, "lab", "eval", "--resamples", "999999999999")
    assert not (tmp_path / "lab-reports").exists()


def test_an_unwritable_report_folder_is_a_usage_error(tmp_path, no_model, capsys):
    assert one_line_error(capsys, "lab", "similarity", "--out", "/proc/x").startswith(
        "cannot make a report folder in /proc/x (")


def test_a_db_that_cannot_be_written_is_a_usage_error(tmp_path, no_model, capsys, monkeypatch):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"

    def read_only(lock, db):
        raise PermissionError(13, "Permission denied", str(lock))

    monkeypatch.setattr(store, "_take", read_only)  # what a read-only folder does to the lock file's creation
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", str(db)) == (
        f"--db {db}: cannot write there (permission denied); give a database folder you can write, "
        f"or copy it somewhere writable")


def test_a_failed_run_leaves_no_empty_report_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "not-a-checkpoint.json"
    bad.write_text("{}")
    assert main(["lab", "similarity", "--embedder", "ming", "--checkpoint", str(bad)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert list((tmp_path / "lab-reports").iterdir()) == []  # similarity-001 was made, then removed


def test_a_chroma_write_that_fails_is_one_line(tmp_path, fake_model, capsys, monkeypatch):
    from chromadb.errors import InternalError

    def refused(*args, **kwargs):
        raise InternalError("error returned from database: (code: 8) attempt to write a readonly database")

    monkeypatch.setattr(store, "write", refused)  # what a read-only chroma.sqlite3 in a writable folder does
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    assert one_line_error(capsys, "lab", "index", str(repo), "--db", str(db)) == (
        f"Chroma could not write to --db {db} (error returned from database: (code: 8) attempt to write a readonly "
        f"database); check that the folder and its files can be written, then run the same command again to resume")


def test_dry_runs_check_everything_and_write_nothing(tmp_path, monkeypatch, capsys):
    """Each lab command's --dry-run stops before the model loads and writes no report, set or database."""
    from omakase.lab import embedders

    def no_model(*a, **k):
        raise AssertionError("a dry run loaded MiniLM")

    monkeypatch.setattr(embedders, "MiniLM", no_model)
    monkeypatch.chdir(tmp_path)
    repo = make_repo(tmp_path / "repo")
    runs = [["lab", "similarity", "--item", "salt", "--item", "sugar", "--dry-run"],
            ["lab", "metrics", "--dry-run"],
            ["lab", "eval", "--dry-run"],
            ["lab", "chunking", "--dry-run"],
            ["lab", "make-set", str(repo), "--out", "set", "--dry-run"],
            ["lab", "index", str(repo), "--db", "db", "--dry-run"]]
    for argv in runs:
        assert main(argv) == 0, argv
        assert "dry run: every option and file checked" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # no lab-reports/, set/ or db/
    # what a real run would refuse, a dry run refuses too
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "report.md").write_text("kept")
    assert "already exists" in one_line_error(capsys, "lab", "metrics", "--out", "taken", "--dry-run")
    assert "no such folder" in one_line_error(capsys, "lab", "eval", "--set", "nowhere", "--dry-run")
    said = one_line_error(capsys, "lab", "eval", "--set", "taken", "--dry-run")  # a folder, but not a set
    assert "--set taken: no corpus.jsonl or queries.jsonl or qrels.tsv in it" in said
