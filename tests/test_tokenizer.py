import pytest

from omakase import data
from omakase.errors import OmakaseError
from omakase.tokenizer import Tokenizer


def test_names_vocabulary_and_emma(names_path):
    tok = Tokenizer.from_docs(data.read_docs(names_path))
    assert tok.chars == "abcdefghijklmnopqrstuvwxyz"
    assert (tok.bos, tok.vocab_size) == (26, 27)
    assert tok.encode("emma") == [26, 4, 12, 12, 0, 26]
    assert tok.decode(tok.encode("emma")) == "emma"


def test_an_unknown_character_names_the_character_and_where_it_is():
    tok = Tokenizer("abcdefghijklmnopqrstuvwxyz")
    with pytest.raises(OmakaseError, match=r"'é' \(U\+00E9\) at position 4 of 'josé'"):
        tok.encode("josé")
