"""Strategy F (function windows), what the embedder sees of a chunk, and embedding in length order.

Fast: a whitespace word counter stands in for MiniLM's tokenizer, except in the one test that
checks the real tokenizer's counts add up line by line (the tokenizer alone, no model).
"""

import numpy as np
import pytest

from omakase.lab.chunkers import chunk_source, source_lines
from omakase.lab.coverage import Coverage, Reader, file_coverage, lines_read
from omakase.lab.embedders import in_length_order


def words(text: str) -> int:
    return len(text.split())


WIDE = Reader(words, 1000, 2)  # reads everything here: no window is cut

PY = '''"""Prices."""
import math

RATE = 0.2


# adds tax
def gross(net):
    return net * (1 + RATE)


class Basket:
    """A basket of prices."""

    currency = "EUR"

    @property
    def total(self):
        return sum(self.items)

    def mean(self):
        return self.total / len(self.items)

    class Line:
        def price(self):
            return 1


if __name__ == "__main__":
    print(gross(1))
'''


def chunks(text, reader, rel="shop.py", strategy="F"):
    return chunk_source(text, rel, strategy, reader=reader)


def test_each_function_and_method_is_a_chunk_under_its_class(tmp_path):
    got = {(c.start, c.end): c for c in chunks(PY, WIDE)}
    assert sorted(got) == [(1, 4), (7, 9), (12, 15), (17, 19), (21, 22), (24, 24), (25, 26), (29, 30)]
    assert got[7, 9].text.startswith("# adds tax") and got[7, 9].header == "# shop.py"  # the comment above is its own
    assert got[17, 19].header == "# shop.py\nclass Basket:"  # decorator and def are in the chunk: no signature
    assert got[17, 19].embed_text == "# shop.py\nclass Basket:\n" + got[17, 19].text
    assert got[25, 26].header == "# shop.py\nclass Basket:\nclass Line:"  # a nested class's method
    assert got[12, 15].header == "# shop.py"  # the class's own lines (line, docstring, attribute) start at its line
    assert got[24, 24].text.strip() == "class Line:"


def test_module_level_code_is_kept_and_every_line_is_seen():
    got = chunks(PY, WIDE)
    lines = source_lines(PY)
    assert file_coverage(got, lines, WIDE) == Coverage(19, 19)  # every non-blank line
    assert (1, 4) in [(c.start, c.end) for c in got] and got[-1].text.startswith('if __name__ == "__main__":')


LONG = "def long(values):\n    '''Sum slowly.'''\n" + "".join(f"    total_{i} = values[{i}] + {i}\n" for i in range(40)) \
       + "    return total_39\n"


def test_a_long_function_is_cut_into_overlapping_windows_that_fit():
    reader = Reader(words, 40, 2)  # 38 words of our text per window
    got = chunks(LONG, reader, "long.py")
    assert len(got) > 3
    for c in got:
        assert reader.special + words(c.embed_text) <= reader.window
    assert got[0].header == "# long.py" and got[0].text.startswith("def long(values):")
    for c in got[1:]:  # later windows say which function they are in
        assert c.header == "# long.py\ndef long(values):"
    for a, b in zip(got, got[1:]):
        assert a.start < b.start <= a.end < b.end  # they overlap, and each one moves on
    assert file_coverage(got, source_lines(LONG), reader).share == 1.0


def test_a_long_signature_leaves_room_for_code():
    params = ", ".join(f"p{i}" for i in range(30))
    text = f"def f({params}):\n" + "".join(f"    x{i} = {i}\n" for i in range(30))
    reader = Reader(words, 40, 2)
    got = chunks(text, reader, "sig.py")
    assert all(c.header == "# sig.py" for c in got[1:])  # the 30-word signature would take most of a window
    assert all(reader.special + words(c.embed_text) <= reader.window for c in got[1:])


def test_a_line_longer_than_the_window_is_its_own_truncated_chunk():
    text = "x = [" + ", ".join(str(i) for i in range(100)) + "]\ny = 1\n"
    reader = Reader(words, 40, 2)
    got = chunks(text, reader, "big.py")
    assert [(c.start, c.end) for c in got] == [(1, 1), (2, 2)]
    assert lines_read(got[0], source_lines(text), reader) == []  # in the index, but not seen
    assert file_coverage(got, source_lines(text), reader) == Coverage(1, 2)


CLASS = "class Big:\n" + "".join(
    f"    def method_{i}(self, x):\n        y = x * {i} + {i}\n        return y - {i}\n\n" for i in range(20))


def test_strategy_a_on_a_long_class_sees_less_than_f():
    reader = Reader(words, 60, 2)
    lines = source_lines(CLASS)
    a = file_coverage(chunks(CLASS, reader, "big.py", "A"), lines, reader)
    f = file_coverage(chunks(CLASS, reader, "big.py", "F"), lines, reader)
    assert a.total == f.total == 61
    assert a.seen < a.total  # one chunk: the window cuts it after the first few methods
    assert f.seen == f.total


def test_javascript_and_sql_use_the_top_level_trees():
    js = "// adds\nfunction add(a, b) {\n  return a + b;\n}\n\nconst x = 1;\n"
    got = chunks(js, WIDE, "a.js")
    assert [(c.start, c.end) for c in got] == [(1, 4), (6, 6)]
    sql = "-- totals\nSELECT SUM(total)\nFROM orders;\n\nSELECT 1;\n"
    assert [(c.start, c.end) for c in chunks(sql, WIDE, "a.sql")] == [(1, 3), (5, 5)]
    long_sql = "SELECT\n" + "".join(f"  col_{i} AS a_{i},\n" for i in range(30)) + "  1\nFROM t;\n"
    reader = Reader(words, 20, 2)
    got = chunks(long_sql, reader, "long.sql")
    assert len(got) > 2 and all(reader.special + words(c.embed_text) <= 20 for c in got)
    assert got[1].header == "# long.sql\nSELECT"  # the statement's first line, for windows after it


def test_f_needs_the_embedders_reader():
    with pytest.raises(ValueError, match="reader"):
        chunk_source(PY, "shop.py", "F")


def test_the_real_tokenizer_counts_add_up_line_by_line():
    """coverage.py and F count a chunk as the sum of its lines; MiniLM's tokenizer must agree on real code."""
    from pathlib import Path

    from omakase.lab import store
    from omakase.lab.embedders import MINILM_MAX_WORD_PIECES, minilm_reader

    reader = minilm_reader()
    tokenizer = reader_tokenizer()
    source = Path(store.__file__).read_text()
    got = chunks(source, reader, "store.py")
    assert len(got) > 20
    for c in got:
        pieces = len(tokenizer(c.embed_text)["input_ids"])  # [CLS] and [SEP] included
        assert pieces == reader.special + reader.count(c.header) + sum(reader.count(x) for x in c.text.split("\n"))
        assert pieces <= MINILM_MAX_WORD_PIECES or c.start == c.end
    assert file_coverage(got, source_lines(source), reader).share == 1.0
    a = file_coverage(chunks(source, reader, "store.py", "A"), source_lines(source), reader)
    assert a.share < 1.0  # store.py's long functions run past 256 word pieces


def reader_tokenizer():
    from transformers import AutoTokenizer

    from omakase.lab.embedders import _minilm_path

    return AutoTokenizer.from_pretrained(_minilm_path())


def test_embedding_in_length_order_gives_rows_back_in_input_order():
    texts = ["a b c d e", "a", "a b c", "a b", "a b c d", "a b c d e f"]
    seen_batches = []

    def encode(batch):
        seen_batches.append(batch)
        return np.array([[words(t), i] for i, t in enumerate(batch)], dtype=np.float32)

    rows = in_length_order(texts, [words(t) for t in texts], 4, encode)
    assert [b for b in seen_batches] == [["a", "a b", "a b c", "a b c d"], ["a b c d e", "a b c d e f"]]
    assert rows[:, 0].tolist() == [words(t) for t in texts]  # each row is its own text's


# ---------------------------------------------------------------- indexing with F: headers, lines seen, batches

def repo_of(root, files):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_index_stores_code_as_documents_headers_as_metadata_and_counts_lines_seen(tmp_path, fake_embedder_class):
    from omakase.lab import store

    repo = repo_of(tmp_path / "repo", {"long.py": LONG, "big.py": CLASS, "shop.py": PY})
    f = store.index_folder(repo, tmp_path / "f", fake_embedder_class(window=40))
    assert f.lines.seen == f.lines.total == 19 + 61 + sum(1 for x in LONG.splitlines() if x.strip())
    got = store.open_collection(store.open_client(tmp_path / "f", create=False)).get(include=["documents", "metadatas"])
    lines = source_lines(LONG)
    for doc, meta in zip(got["documents"], got["metadatas"]):
        if meta["path"] == "long.py":  # the stored text is the code of the line range, header apart
            assert doc == "\n".join(lines[meta["start_line"] - 1 : meta["end_line"]])
    assert "# long.py\ndef long(values):" in [m.get("header") for m in got["metadatas"]]
    a = store.index_folder(repo, tmp_path / "a", fake_embedder_class(window=40), strategy="A")
    assert a.lines.total == f.lines.total and a.lines.seen < a.lines.total and a.truncated > 0 == f.truncated


def test_batched_embedding_stores_what_one_chunk_at_a_time_stores(tmp_path, fake_embedder_class):
    from omakase.lab import store

    repo = repo_of(tmp_path / "repo", {"long.py": LONG, "big.py": CLASS, "shop.py": PY})
    batched, alone = fake_embedder_class(window=40), fake_embedder_class(window=40)
    stats = store.index_folder(repo, tmp_path / "batched", batched)
    store.index_folder(repo, tmp_path / "alone", alone, batch_size=1)
    n = stats.chunks_added
    assert (batched.calls, alone.calls) == (-(-n // store.EMBED_BATCH), n)  # batches across files; one call a chunk
    stored = [store.open_collection(store.open_client(tmp_path / d, create=False)).get(include=["embeddings"])
              for d in ("batched", "alone")]
    by_id = [dict(zip(s["ids"], np.asarray(s["embeddings"]).tolist())) for s in stored]
    assert by_id[0] == by_id[1] and len(by_id[0]) > 30


def test_cli_index_reports_lines_seen_and_threads(tmp_path, fake_model, capsys):
    import torch

    from omakase.cli import main

    repo = repo_of(tmp_path / "repo", {"shop.py": PY})
    before = torch.get_num_threads()
    try:
        assert main(["lab", "index", str(repo), "--db", str(tmp_path / "db"), "--threads", "1"]) == 0
    finally:
        torch.set_num_threads(before)
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert ("lines seen: minilm reads 100.0% of the 19 non-blank lines in the files indexed "
            "(strategy F, function windows); torch threads: 1") in out
    assert "8 chunks added" in out
