"""Indexing real folders: odd encodings, files that do not parse, many statements on a line or in a
file, a second writer, a database built another way. Fast: a hashing embedder stands in for MiniLM."""

import codecs
import os
import subprocess
import sys

import pytest

from omakase.errors import OmakaseError
from omakase.lab import store
from omakase.lab.chunkers import Unreadable, chunk_file, chunk_source, decode_source
from omakase.lab.search import Searcher

PY2 = 'def greet(name):\n    print "hello", name\n\n\ndef bye():\n    return 1\n'

# name -> bytes, and what becomes of the file
BAD_FILES = {
    "py2.py": (PY2.encode(), "windows"),
    "bom.py": (codecs.BOM_UTF8 + b"def with_bom():\n    return 1\n", "indexed"),
    "latin.py": (b"# -*- coding: latin-1 -*-\ndef cafe():\n    return '\xe9'\n", "indexed"),
    "utf16.sql": ("SELECT name FROM users;\n".encode("utf-16"), "indexed"),  # with its byte-order mark
    "nul.py": (b"def f():\n    return 1\n\x00\x00\x00", "skipped"),
    "utf16_no_bom.js": ("function f() { return 1; }\n".encode("utf-16-le"), "skipped"),
    "image.js": (bytes(range(256)) * 4, "skipped"),
    "latin_no_cookie.sql": (b"SELECT 'caf\xe9' FROM menu;\n", "skipped"),
    "klingon.py": (b"# coding: klingon\nx = 1\n", "skipped"),
    "elf.py": (b"\x7fELF\x02\x01\x01\x00\x00\xff\xfe", "skipped"),  # a compiled program named .py
    "empty.py": (b"", "empty"),
    "blank.sql": (b"\n   \n\t\n", "empty"),
}


def write_files(root, files):
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data if isinstance(data, bytes) else data.encode())
    return root


def test_files_are_decoded_as_their_bytes_say():
    assert decode_source(codecs.BOM_UTF8 + b"x = 1\n", "a.py") == "x = 1\n"  # the mark is not code
    assert decode_source(codecs.BOM_UTF8 + b"SELECT 1;\n", "a.sql") == "SELECT 1;\n"
    assert "'\xe9'" in decode_source(BAD_FILES["latin.py"][0], "latin.py")  # the coding cookie
    assert decode_source(BAD_FILES["utf16.sql"][0], "u.sql") == "SELECT name FROM users;\n"
    assert decode_source("const s = 'é';\n".encode("utf-32"), "a.js") == "const s = 'é';\n"


@pytest.mark.parametrize("name, reason", [
    ("nul.py", "binary (it holds NUL bytes)"),
    ("utf16_no_bom.js", "binary (it holds NUL bytes)"),
    ("image.js", "binary (it holds NUL bytes)"),
    ("elf.py", "binary (it holds NUL bytes)"),  # not "invalid or missing encoding declaration", as Python says
    ("latin_no_cookie.sql", "not UTF-8 text (byte 0xe9 at offset 11)"),
    ("klingon.py", "unknown encoding"),
])
def test_what_is_not_text_is_unreadable(name, reason):
    with pytest.raises(Unreadable) as e:
        decode_source(BAD_FILES[name][0], name)
    assert str(e.value).startswith(f"{name}: ") and reason in str(e.value) and "\n" not in str(e.value)


def test_code_that_does_not_parse_is_cut_into_windows():
    notes = []
    chunks = chunk_source(PY2, "py2.py", "A", on_parse_error=notes.append)
    assert [(c.start, c.end) for c in chunks] == [(1, 6)]
    assert notes == ["py2.py line 2: Python syntax error (Missing parentheses in call to 'print'. "
                     "Did you mean print(...)?); cut into 20-line windows instead"]
    deep = "const x = " + "[" * 3000 + "]" * 3000 + ";\n"  # deeper than Python's recursion limit
    chunk_source(deep, "deep.js", "B", on_parse_error=notes.append)
    assert notes[-1] == "deep.js: nested too deeply to parse; cut into 20-line windows instead"


def test_strict_chunking_still_stops_with_one_line(tmp_path):
    (tmp_path / "py2.py").write_text(PY2)
    with pytest.raises(OmakaseError, match=r"py2.py line 2: Python syntax error .*; fix it or leave the file out"):
        chunk_file(tmp_path / "py2.py", "py2.py", "A")


def test_line_numbers_count_only_real_line_ends():
    # a form feed between functions (GNU style) and U+2028 inside a JavaScript string are not line ends
    py = chunk_source("def a():\n    return 1\n\x0c\ndef b():\n    return 2\n", "ff.py", "A")
    assert [(c.start, c.end, c.text.split("\n")[0]) for c in py] == [(1, 2, "def a():"), (4, 5, "def b():")]
    js = chunk_source("const s = 'a\u2028b';\r\nfunction f() {\r\n  return 1;\r\n}\r\n", "ls.js", "A")
    assert [(c.start, c.end) for c in js] == [(1, 1), (2, 4)] and js[1].text.startswith("function f() {")


@pytest.mark.parametrize("strategy", "ABCDF")
def test_statements_sharing_a_line_give_unique_ids(strategy):
    from omakase.lab.coverage import Reader

    sql = "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); COMMIT;\nSELECT 1; SELECT 2;\n"
    js = "function a(){return 1}function b(){return 2}var c=function(){};class D{}\n"
    for rel, text in (("tx.sql", sql), ("app.min.js", js)):
        ids = [c.id for c in chunk_source(text, rel, strategy, reader=Reader(lambda t: len(t.split()), 5))]
        assert len(ids) == len(set(ids)) > 0


def index(root, db, embedder, **kw):
    warnings = []
    stats = store.index_folder(root, db, embedder, warn=warnings.append, **kw)
    return stats, warnings


def test_a_run_goes_on_past_files_it_cannot_read_or_parse(tmp_path, fake_embedder):
    root = write_files(tmp_path / "repo", {rel: data for rel, (data, _) in BAD_FILES.items()})
    (root / "good.js").write_text("function ok() { return 1; }\n")
    stats, warnings = index(root, tmp_path / "db", fake_embedder)
    expect = lambda what: sum(1 for _, fate in BAD_FILES.values() if fate == what)  # noqa: E731
    assert stats.files == len(BAD_FILES) + 1
    assert stats.files_indexed == expect("indexed") + expect("windows") + 1
    assert stats.files_windowed == expect("windows")
    assert stats.skipped_files["not text"] == expect("skipped")
    assert stats.files_empty == expect("empty")  # empty files are not counted as indexed
    assert len(warnings) == expect("windows") + expect("skipped")
    assert all("\n" not in w for w in warnings)
    assert any(w.startswith("py2.py line 2: Python syntax error") and w.endswith("windows instead") for w in warnings)
    assert "image.js: binary (it holds NUL bytes); skipped" in warnings
    assert "latin_no_cookie.sql: not UTF-8 text (byte 0xe9 at offset 11); skipped" in warnings
    hits = Searcher(tmp_path / "db", lambda: fake_embedder).search("SELECT name FROM users;", k=1).results
    assert hits[0].path == "utf16.sql" and hits[0].symbol == "SELECT name FROM users;"  # read as UTF-16
    # unreadable files are looked at again next time (they may have been fixed), the rest is unchanged
    again, warnings = index(root, tmp_path / "db", fake_embedder)
    assert again.files_unchanged == stats.files_indexed and again.skipped_files == stats.skipped_files


def test_a_file_that_turns_binary_leaves_the_index(tmp_path, fake_embedder):
    root = write_files(tmp_path / "repo", {"a.py": "def a():\n    return 1\n", "b.py": "def b():\n    return 2\n"})
    index(root, tmp_path / "db", fake_embedder)
    (root / "b.py").write_bytes(b"\x00\x01\x02")
    stats, warnings = index(root, tmp_path / "db", fake_embedder)
    assert (stats.files_unchanged, stats.skipped_files["not text"], stats.chunks_total) == (1, 1, 1)


def test_8001_statements_are_written_in_batches_chroma_accepts(tmp_path, fake_embedder, monkeypatch):
    statements = ["BEGIN; INSERT INTO t VALUES (0); COMMIT;"]  # three on the first line: one chunk
    statements += [f"INSERT INTO t VALUES ({i});" for i in range(1, 7999)]
    root = write_files(tmp_path / "repo", {"big.sql": "\n".join(statements) + "\n"})
    written = []
    original = store.write
    monkeypatch.setattr(store, "write", lambda col, chunks, *a: written.append(len(chunks)) or original(col, chunks, *a))
    stats, _ = index(root, tmp_path / "db", fake_embedder, batch_size=10**6)  # Chroma's limit must cut it
    limit = store.max_batch_size(store.open_client(tmp_path / "db", create=False))
    assert stats.chunks_added == stats.chunks_total == 7999
    assert len(written) > 1 and max(written) <= limit and sum(written) == 7999


def test_an_interrupted_file_is_resumed_without_doubling(tmp_path, fake_embedder_class, monkeypatch, ctrl_c_on_write):
    root = write_files(tmp_path / "repo", {"many.sql": "".join(f"SELECT {i};\n" for i in range(10))})
    monkeypatch.setattr(store, "max_batch_size", lambda client: 4)  # 10 chunks: writes of 4, 4 and 2
    ctrl_c_on_write(2)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C after the first write of the file
        index(root, tmp_path / "db", fake_embedder_class())
    col = store.open_collection(store.open_client(tmp_path / "db", create=False))
    assert col.count() == 4
    assert not (tmp_path / "db" / store.LOCK).exists()  # the lock goes with the run
    stats, _ = index(root, tmp_path / "db", fake_embedder_class())
    assert (stats.files_indexed, stats.files_resumed, stats.chunks_added, stats.chunks_total) == (1, 1, 6, 10)


def test_strategy_and_embedder_are_recorded_and_not_mixed(tmp_path, fake_embedder, fake_embedder_class):
    root = write_files(tmp_path / "repo", {"a.py": "def a():\n    return 1\n"})
    db = tmp_path / "db"
    index(root, db, fake_embedder, strategy="A")
    meta = store.find_collection(store.open_client(db, create=False)).metadata
    assert (meta["strategy"], meta["embedder"], meta["dim"]) == ("A", "fake", 64)
    with pytest.raises(OmakaseError) as e:
        index(root, db, fake_embedder, strategy="B")
    assert str(e.value) == ("this database was built with chunking strategy A (functions), not B (blocks); "
                            "index with strategy A again, or into a new database folder")
    with pytest.raises(OmakaseError) as e:
        index(root, db, fake_embedder_class("other", 64))
    assert str(e.value) == ("this database was built with embedder fake (64-d), not other (64-d); "
                            "use the same embedder, or a new database folder")
    with pytest.raises(OmakaseError, match="built with embedder fake"):  # before any model: the name alone
        store.check_target(db, None, "A", "minilm", create=True)
    index(root, db, fake_embedder, strategy="a")  # the same strategy, any case, is welcome


def test_a_database_from_before_strategies_were_recorded(tmp_path, fake_embedder):
    root = write_files(tmp_path / "repo", {"a.py": "def a():\n    return 1\n"})
    db = tmp_path / "db"
    index(root, db, fake_embedder, strategy="B")
    col = store.find_collection(store.open_client(db, create=False))
    col.modify(metadata={k: v for k, v in col.metadata.items() if k != "strategy"})
    with pytest.raises(OmakaseError, match="built with chunking strategy B"):  # its chunks tell
        index(root, db, fake_embedder, strategy="A")
    index(root, db, fake_embedder, strategy="B")
    assert store.find_collection(store.open_client(db, create=False)).metadata["strategy"] == "B"


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_a_second_writer_is_stopped(tmp_path, fake_embedder):
    import socket

    root = write_files(tmp_path / "repo", {"a.py": "def a():\n    return 1\n"})
    db = tmp_path / "db"
    db.mkdir()
    lock = db / store.LOCK
    lock.write_text(f"{os.getppid()} {socket.gethostname()}\n")  # a live process holds it
    with pytest.raises(OmakaseError) as e:
        index(root, db, fake_embedder)
    assert str(e.value) == (f"{db} is being indexed by another run (process {os.getppid()}); wait for it to finish, "
                            f"or delete {lock} if that run is gone")
    assert lock.exists() and not (db / store.CHROMA_MARKER).exists()  # nothing was touched
    lock.write_text("")
    with pytest.raises(OmakaseError, match="which names no process; if no other indexing run is going, delete that file"):
        index(root, db, fake_embedder)
    lock.write_text(f"{dead_pid()} {socket.gethostname()}\n")  # its process is gone: taken over
    stats, _ = index(root, db, fake_embedder)
    assert stats.files_indexed == 1 and not lock.exists()


def test_the_lock_is_exclusive_and_released(tmp_path):
    db = tmp_path / "db"
    with store.writer_lock(db):
        assert store.lock_owner(db / store.LOCK)[0] == os.getpid()
        with store.writer_lock(db):  # the same run may enter again (the CLI, then index_folder)
            pass
        assert (db / store.LOCK).exists()
    assert not (db / store.LOCK).exists()
    assert not any(db.iterdir())  # the folder is still an acceptable new database
    store.check_db(db, create=True)
