"""Where Ming stands: counting tables to compare him with.

Three apprentices who never learned anything but counting:
- uniform: a blindfolded guess, every token equally likely: loss ln(vocab_size)
  (ln 27 = 3.2958 on names);
- unigram: how often each token comes next, whatever came before;
- bigram: how often each token comes next after the token just served.

Counts use add-one smoothing (every count starts at 1), so no token is ever
impossible. Tables are fit on the training documents and scored on held-out
ones, at exactly the positions the model predicts: tokens = [BOS] + chars +
[BOS], predict tokens[1:] from tokens[:-1], at most block_size predictions per
document. The score is the mean -log p over all those positions, as the
model's loss is.
"""

from __future__ import annotations

import math


def predictions(tokens: list[int], block_size: int) -> list[tuple[int, int]]:
    """(previous token, token to predict) at every position the model predicts."""
    tokens = tokens[: block_size + 1]
    return list(zip(tokens[:-1], tokens[1:]))


def uniform_loss(vocab_size: int) -> float:
    """Every position scores -log(1 / vocab_size), so the mean is exactly ln(vocab_size)."""
    return math.log(vocab_size)


def pair_counts(train_docs: list[list[int]], vocab_size: int, block_size: int) -> list[list[int]]:
    """count(prev, next) over every predicted position: one pass that both tables are read from."""
    counts = [[0] * vocab_size for _ in range(vocab_size)]
    for tokens in train_docs:
        for prev, nxt in predictions(tokens, block_size):
            counts[prev][nxt] += 1
    return counts


def unigram_probs(train_docs: list[list[int]], vocab_size: int, block_size: int, pairs=None) -> list[float]:
    """p(next) = (count(next) + 1) / (positions + vocab_size). `pairs`: pair_counts, when already counted."""
    pairs = pair_counts(train_docs, vocab_size, block_size) if pairs is None else pairs
    counts = [1 + sum(column) for column in zip(*pairs)]
    total = sum(counts)
    return [c / total for c in counts]


def bigram_probs(train_docs: list[list[int]], vocab_size: int, block_size: int, pairs=None) -> list[list[float]]:
    """p(next | prev) = (count(prev, next) + 1) / (count(prev) + vocab_size)."""
    pairs = pair_counts(train_docs, vocab_size, block_size) if pairs is None else pairs
    table = []
    for row in pairs:
        total = sum(row) + vocab_size
        table.append([(c + 1) / total for c in row])
    return table


def mean_nll(docs: list[list[int]], prob, block_size: int) -> float:
    """Mean -log prob(prev, next) over every predicted position of docs."""
    total, count = 0.0, 0
    for tokens in docs:
        for prev, nxt in predictions(tokens, block_size):
            total -= math.log(prob(prev, nxt))
            count += 1
    return total / count


def baseline_losses(
    train_docs: list[list[int]], val_docs: list[list[int]], vocab_size: int, block_size: int
) -> dict[str, float]:
    """Held-out loss of the uniform, unigram and bigram tables, fit on train_docs (token lists)."""
    pairs = pair_counts(train_docs, vocab_size, block_size)
    unigram = unigram_probs(train_docs, vocab_size, block_size, pairs)
    bigram = bigram_probs(train_docs, vocab_size, block_size, pairs)
    return {
        "uniform": uniform_loss(vocab_size),
        "unigram": mean_nll(val_docs, lambda prev, nxt: unigram[nxt], block_size),
        "bigram": mean_nll(val_docs, lambda prev, nxt: bigram[prev][nxt], block_size),
    }
