"""Indexing keeps its work: a real Ctrl-C keeps every batch written, a rerun embeds only what is
missing, and a moved checkout keeps its index (paths are stored relative to the indexed folder)."""

import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from omakase.cli import main
from omakase.errors import OmakaseError
from omakase.lab import store
from omakase.lab.search import Searcher

FILES = {f"pkg/mod_{i}.py": "".join(f"def f_{i}_{j}(x):\n    return x + {j}\n\n\n" for j in range(5)) for i in range(20)}


def make_repo(root, files=FILES):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# `omakase lab index` in its own process, with an embedder that takes 0.2 s a batch of 4 and says so
SLOW_INDEX = textwrap.dedent("""
    import sys, time, zlib
    import numpy as np
    import omakase.lab.embedders as embedders
    from omakase.lab.coverage import Reader

    class Slow:
        name, dim, unseen_means, batch_size = "minilm", 16, "nothing", 4
        reader = Reader(lambda text: len(text.split()), None)

        def embed(self, texts):
            print("batch", flush=True)
            time.sleep(0.2)
            v = np.ones((len(texts), self.dim), np.float32)
            for i, t in enumerate(texts):
                v[i, zlib.crc32(t.encode()) % self.dim] += 1
            return embedders.Embeddings(v, [1] * len(texts), [0] * len(texts))

    embedders.make_embedder = lambda name, checkpoint=None: Slow()
    from omakase.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow  # a process of its own: imports and Chroma take seconds
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is a POSIX affair")
def test_ctrl_c_keeps_every_batch_written_and_a_rerun_resumes(tmp_path, fake_embedder_class):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_INDEX, "lab", "index", str(repo), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    batches = 0
    for line in proc.stdout:  # 100 chunks: 25 batches; Ctrl-C as the sixth begins
        batches += line.strip() == "batch"
        if batches == 6:
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().endswith("every batch embedded so far is saved, so running the same command again "
                                "resumes where this run stopped")
    kept = Searcher(db).size
    assert 20 <= kept < 100  # five batches of four at least, and not the whole run
    assert Searcher(db).search("f_1_1", 1, "bm25").partial.startswith("its last indexing run stopped")
    stats = store.index_folder(repo, db, fake_embedder_class("minilm", dim=16))
    assert (stats.chunks_added, stats.chunks_total) == (100 - kept, 100)  # nothing embedded twice
    assert stats.files_indexed + stats.files_unchanged == 20


def test_a_moved_checkout_keeps_its_index(tmp_path, fake_embedder_class):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    store.index_folder(repo, db, fake_embedder_class())
    moved = tmp_path / "renamed" / "repo"
    moved.parent.mkdir()
    shutil.move(repo, moved)
    stats = store.index_folder(moved, db, fake_embedder_class())
    assert stats.rebound_from == str(repo.resolve())  # every stored file is under the new root: bound by itself
    assert (stats.files_unchanged, stats.chunks_added, stats.chunks_total) == (20, 0, 100)
    assert store.find_collection(store.open_client(db, create=False)).metadata["root"] == str(moved.resolve())
    assert Searcher(db).search("f_3_2", 1, "bm25").results[0].path == "pkg/mod_3.py"


def test_another_folder_needs_rebind(tmp_path, fake_embedder_class, fake_model, capsys):
    repo, db = make_repo(tmp_path / "repo"), tmp_path / "db"
    store.index_folder(repo, db, fake_embedder_class("minilm"))
    half = make_repo(tmp_path / "half", {k: v for k, v in list(FILES.items())[:10]})
    with pytest.raises(OmakaseError, match=r"\(only 50% of its files are there\); if this is the same code moved, "
                                           r"pass --rebind"):
        store.index_folder(half, db, fake_embedder_class("minilm"))
    assert main(["lab", "index", str(half), "--db", str(db), "--rebind"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"the database indexed {repo.resolve()}; its chunks are kept and its root is now {half.resolve()}"
    assert out[1].startswith("10 files: 0 indexed, 10 unchanged, 10 removed; 0 chunks added")


def test_an_index_from_before_def_lines_is_labelled_without_embedding(tmp_path, fake_embedder_class):
    from omakase.lab.search import Searcher

    long = "def running(rows):\n" + "".join(f"    total_{i} = sum(rows[:{i}])  # running total {i}\n"
                                            for i in range(30)) + "    return total_0\n"
    repo, db = make_repo(tmp_path / "repo", {"ledger.py": "import math\n\n\n" + long}), tmp_path / "db"
    store.index_folder(repo, db, fake_embedder_class(window=40))
    col = store.find_collection(store.open_client(db, create=False))
    got = col.get(include=["metadatas"])  # make it look like a database the code before wrote
    col.update(ids=got["ids"], metadatas=[{**m, "def_line": None, "symbol": None}  # None deletes a key
                                          for m in got["metadatas"]])
    col.modify(metadata={k: v for k, v in col.metadata.items() if k != "def_lines"})
    before = Searcher(db).search("running total", 10, "bm25").results
    assert len(before) > 1 and any(r.def_line != 4 for r in before)  # windows labelled at their own lines
    embedder = fake_embedder_class(window=40)
    stats = store.index_folder(repo, db, embedder)
    assert embedder.calls == 0 and stats.files_unchanged == 1  # nothing embedded again
    after = Searcher(db).search("running total", 10, "bm25").results
    assert [(r.def_line, r.symbol) for r in after if r.symbol.startswith("def")] == [(4, "def running(rows):")]
