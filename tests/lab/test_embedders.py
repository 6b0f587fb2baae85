import numpy as np
import pytest

from omakase.errors import OmakaseError
from omakase.lab.embedders import MINILM_MAX_WORD_PIECES, FlavorCards, make_embedder


def test_minilm_gives_unit_384_vectors_and_puts_cat_nearer_dog_than_car(minilm):
    emb = minilm.embed(["cat", "dog", "car"])
    assert minilm.dim == 384 and emb.vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, atol=1e-5)
    cat, dog, car = emb.vectors
    assert cat @ dog > cat @ car
    assert emb.unseen == [0, 0, 0]


def test_minilm_reports_truncation_past_256_word_pieces(minilm):
    long_text = "word " * 400
    emb = minilm.embed(["short", long_text])
    assert emb.tokens[1] > MINILM_MAX_WORD_PIECES
    assert emb.unseen == [0, emb.tokens[1] - MINILM_MAX_WORD_PIECES]
    assert emb.n_affected == 1


def test_flavor_cards_average_wte_rows_and_count_skipped_characters(ming_checkpoint):
    from omakase import checkpoint

    cards = FlavorCards(ming_checkpoint)
    wte = np.asarray(checkpoint.load(ming_checkpoint).params["wte"])
    emb = cards.embed(["Ab!", "ba"])
    assert cards.dim == 16
    # "Ab!" -> lowercased "ab!", the "!" skipped: the mean of rows a and b, same as "ba"
    assert np.allclose(emb.vectors[0], wte[[0, 1]].mean(axis=0), atol=1e-6)
    assert np.allclose(emb.vectors[0], emb.vectors[1], atol=1e-6)
    assert emb.unseen == [1, 0]


def test_flavor_cards_refuse_text_without_letters(ming_checkpoint):
    with pytest.raises(OmakaseError, match="no character Ming knows"):
        FlavorCards(ming_checkpoint).embed(["123 !!"])


def test_make_embedder_errors():
    with pytest.raises(OmakaseError, match="--checkpoint"):
        make_embedder("ming")
    with pytest.raises(OmakaseError, match="unknown embedder"):
        make_embedder("word2vec")
