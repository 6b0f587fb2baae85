"""Counting tables: the bar Ming has to clear."""

import math
import random

from omakase import data
from omakase.baseline import baseline_losses, bigram_probs, predictions, unigram_probs, uniform_loss
from omakase.tokenizer import Tokenizer


def test_predictions_are_the_models_positions():
    assert predictions([26, 4, 12, 12, 0, 26], block_size=16) == [(26, 4), (4, 12), (12, 12), (12, 0), (0, 26)]
    assert predictions([26, 4, 12, 12, 0, 26], block_size=2) == [(26, 4), (4, 12)]


def test_add_one_smoothing_by_hand():
    # vocabulary {a=0, BOS=1}; "a" is [1, 0, 1]: targets a, BOS; pairs (BOS, a), (a, BOS)
    docs = [[1, 0, 1]]
    assert unigram_probs(docs, vocab_size=2, block_size=16) == [2 / 4, 2 / 4]
    assert bigram_probs(docs, vocab_size=2, block_size=16) == [[1 / 3, 2 / 3], [2 / 3, 1 / 3]]
    losses = baseline_losses(docs, [[1, 1]], vocab_size=2, block_size=16)  # the empty name: BOS -> BOS
    assert losses["unigram"] == -math.log(1 / 2)
    assert losses["bigram"] == -math.log(1 / 3)


def test_names_baselines_sit_between_a_blind_guess_and_ming():
    rng = random.Random(42)
    docs = data.read_docs(data.resolve(None))
    rng.shuffle(docs)
    tok = Tokenizer.from_docs(docs)
    encoded = [tok.encode(doc) for doc in docs]
    n_train = data.split(len(docs))
    losses = baseline_losses(encoded[:n_train], encoded[n_train:], tok.vocab_size, block_size=16)
    assert losses["uniform"] == uniform_loss(27) == math.log(27)
    assert f"{losses['uniform']:.4f}" == "3.2958"
    assert losses["uniform"] > losses["unigram"] > losses["bigram"]
    assert 2.40 < losses["bigram"] < 2.50  # makemore's bigram table scores about 2.45
