"""Tokenization shown: the pieces join back to the text, both views show every piece and id, strawberry is computed."""

import re

import pytest

from omakase.assistant.data import tokenview
from omakase.bpe import BPE

TEXT = ("The strawberry tart: straw-coloured pastry, berries, cream. Three berries per tart, "
        "a straw of mint; the baker's tarts are the best. ") * 20


@pytest.fixture(scope="module")
def bpe():
    return BPE.train(TEXT, 256 + 80, specials=["<|doc|>"])


def test_pieces_join_back_to_the_text(bpe):
    text = "How many r's are in strawberry? café 日本 <|doc|>"
    found = tokenview.pieces(bpe, text)
    assert b"".join(p for _, p in found) == text.encode("utf-8")
    assert [i for i, _ in found] == bpe.encode(text)
    assert any(len(p) > 1 for _, p in found)  # merges made word-pieces


def test_the_terminal_view_colours_every_piece_and_can_show_ids(bpe):
    text = "the straw\nberries"
    found = tokenview.pieces(bpe, text)
    plain = tokenview.terminal(bpe, text)
    assert plain.plain == "the straw↵\nberries"
    assert len(plain.spans) == len(found)
    assert {s.style for s in plain.spans[:2]} == set(tokenview.TERMINAL_COLOURS[:2])  # neighbours differ
    with_ids = tokenview.terminal(bpe, text, ids=True)
    assert with_ids.plain == "".join(tokenview.shown(p) + str(i) for i, p in found)


def test_the_html_view_is_escaped_self_contained_and_labelled(bpe):
    text = "<script>alert('x')</script> & the tart"
    page = tokenview.html(bpe, text, title="A <tart>")
    assert "<script" not in page and "&lt;" in page and "&amp;" in page  # escaped, never run
    assert "<title>A &lt;tart&gt;</title>" in page
    found = tokenview.pieces(bpe, text)
    subs = re.findall(r"<sub>(\d+)</sub>", page)
    assert [int(s) for s in subs] == [i for i, _ in found]
    assert f"{len(found):,} tokens" in page and "http" not in page  # no outside resources


def test_strawberry_is_computed_from_the_pieces(bpe):
    s = tokenview.strawberry(bpe)
    assert s.letters == 3 and sum(s.per_piece) == 3
    assert b"".join(s.pieces).strip() == b"strawberry"
    assert len(s.pieces) < len("strawberry") and not s.letters_visible
    assert s.ids == [i for i, p in tokenview.pieces(bpe, s.question) if p in s.pieces]
    assert f"becomes {len(s.pieces)} piece" in s.sentence() and str(s.ids) in s.sentence()
    raw = tokenview.strawberry(BPE.train("xyz", 256))  # bytes only: one id per letter
    assert raw.letters_visible and len(raw.ids) == 10 and "one per letter" in raw.sentence()
