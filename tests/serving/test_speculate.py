"""Speculative decoding: greedy output equals the target's, and Leviathan's rule samples from the target's p."""

import random

import pytest
import torch

from omakase.config import GPTConfig
from omakase.engines.torch import init_gpt
from omakase.errors import OmakaseError
from omakase.model import Model, Sampler, generate
from omakase.serving import frozen, speculate
from omakase.tokenizer import Tokenizer


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def target(target_ckpt):
    return frozen.laminate(target_ckpt, "float64")


@pytest.fixture(scope="module")
def draft(draft_ckpt):
    return frozen.laminate(draft_ckpt, "float64")


def prompts(served):
    bos, ids = served.tokenizer.bos, served.tokenizer.ids
    return [[bos], [bos] + ids("a"), [bos] + ids("ke"), [bos] + ids("mar")]


def greedy(model, prompt, n_new, stop=None):
    return generate(model, prompt, sampler=Sampler(0.0), max_new=n_new, stop=stop)[0].ids


def test_greedy_is_the_targets_greedy_output(target, draft):
    block = target.config.block_size
    for prompt in prompts(target):
        n_new = block - len(prompt) + 1  # as far as the block allows
        expected = greedy(target, prompt, n_new)
        for k in range(1, 9):
            out, stats = speculate.speculative_generate(target, draft, prompt, n_new, k, Sampler(0.0))
            assert out == expected, (prompt, k)
            assert stats.accepted <= stats.drafted
            # every round ends with one target token: tokens = accepted drafts + target calls
            assert len(out) == stats.accepted + stats.target_calls


def test_the_drafts_wrong_guesses_are_corrected(target, draft):
    # the draft is a different model, so some of its guesses must be rejected (else the test above is idle)
    out, stats = speculate.speculative_generate(target, draft, [target.tokenizer.bos], 15, 8, Sampler(0.0))
    assert stats.accepted < stats.drafted


def test_speculative_stops_at_the_bell(target, draft):
    bos = target.tokenizer.bos
    out, _ = speculate.speculative_generate(target, draft, [bos], 15, 4, Sampler(1.0, seed=3), stop_at=bos)
    assert bos not in out[:-1]
    assert out[-1] == bos or len(out) == 15
    expected = greedy(target, [bos], 15, stop=bos)
    assert speculate.speculative_generate(target, draft, [bos], 15, 4, Sampler(0.0), stop_at=bos)[0] == expected


def test_own_draft_accepts_everything(target):
    for temperature in (0.0, 1.0):
        out, stats = speculate.speculative_generate(target, target, [target.tokenizer.bos], 15, 4,
                                                    Sampler(temperature, seed=0))
        assert stats.accepted == stats.drafted > 0
        assert len(out) == 15


def distributions(seed=0, V=6):
    g = torch.Generator().manual_seed(seed)
    p = torch.softmax(torch.randn(V, generator=g, dtype=torch.float64) * 2, -1)
    q = torch.softmax(torch.randn(V, generator=g, dtype=torch.float64) * 2, -1)
    return p.tolist(), q.tolist()


def test_rejection_step_gives_p_exactly():
    for seed in range(5):
        p, q = distributions(seed)
        accept = [min(1.0, a / b) for a, b in zip(p, q)]  # Leviathan's acceptance probability per token
        rejected = 1 - sum(b * c for b, c in zip(q, accept))
        out = [b * c + rejected * r for b, c, r in zip(q, accept, speculate.residual(p, q))]
        assert all(abs(o - a) < 1e-12 for o, a in zip(out, p))
        assert rejected > 0.05  # p and q differ: the residual matters here


def test_residual_when_draft_equals_target():
    p, _ = distributions()
    assert speculate.residual(p, p) == p


def test_rejection_step_samples_from_p_not_q():
    p, q = distributions(1)
    n = 20_000
    sampler, draft_stream = Sampler(1.0, seed=1), random.Random(2)
    counts = [0] * len(p)
    for _ in range(n):
        drafted = draft_stream.choices(range(len(q)), weights=q)[0]
        replacement = speculate.accept_or_resample(p, q, drafted, sampler)
        counts[drafted if replacement is None else replacement] += 1
    empirical = [c / n for c in counts]
    tv = lambda a, b: 0.5 * sum(abs(x - y) for x, y in zip(a, b))  # noqa: E731
    # sampling noise of 20,000 draws over 6 tokens: TV about 0.005; 0.02 is far beyond it
    assert tv(empirical, p) < 0.02
    assert tv(p, q) > 0.2 and tv(empirical, q) > 0.15  # the same bound would fail for the draft's q


def test_first_token_distribution_is_the_targets(target, draft):
    # the whole loop at temperature 1: the first token over many seeded runs, after the one-letter
    # prompt where target and draft disagree most (so drawing from the draft's q would fail the bound)
    tok = target.tokenizer
    tv = lambda a, b: 0.5 * float((a - b).abs().sum())  # noqa: E731
    with torch.inference_mode():
        cases = []
        for c in tok.chars:
            prompt = [tok.bos] + tok.ids(c)
            p = torch.softmax(target.network(torch.tensor([prompt]))[0, -1], -1)
            q = torch.softmax(draft.network(torch.tensor([prompt]))[0, -1], -1)
            cases.append((tv(p, q), prompt, p, q))
    gap, prompt, p, q = max(cases, key=lambda case: case[0])
    sampler = Sampler(1.0, seed=5)
    n = 1500
    counts = torch.zeros_like(p)
    for _ in range(n):
        out, _ = speculate.speculative_generate(target, draft, prompt, 2, 1, sampler)
        counts[out[0]] += 1
    # sampling noise of 1,500 draws is about 0.013 in TV for these p
    assert tv(counts / n, p) < 0.05
    assert gap > 0.25 and tv(counts / n, q) > 0.2


def test_vocabulary_mismatch_is_one_clear_error(target):
    bigger = GPTConfig(vocab_size=target.config.vocab_size + 1, n_layer=1, n_embd=16, n_head=4, block_size=16)
    other = Model.around(init_gpt(bigger, 0), target.tokenizer)
    with pytest.raises(OmakaseError, match="same data"):
        speculate.speculative_generate(target, other, [target.tokenizer.bos], 3, 2, Sampler(0.0))
    shifted = target.tokenizer.chars[1:] + "~"  # as many tokens, other characters behind the ids
    other_letters = Model(target.engine, Tokenizer(shifted))
    with pytest.raises(OmakaseError, match="vocabulary"):
        speculate.check_vocabulary(target, other_letters)


def test_prompts_of_a_names_model_and_a_stream(target):
    bos = target.tokenizer.bos
    assert speculate.prompts_of(target.tokenizer) == [[bos], [bos, 0], [bos, 12], [bos, 10]]  # the bell, a, m, k
    held_out = [list(range(20)), [3] * 20]
    assert speculate.prompts_of(target.tokenizer, held_out, stream_length=5) == [[0, 1, 2, 3, 4], [3] * 5]
    with pytest.raises(OmakaseError, match="held-out"):
        speculate.prompts_of(target.tokenizer, [])


def test_measure_small(target, draft):
    calls = []
    m = speculate.measure(target, draft, ks=(1, 3), n_new=6, repeats=1, progress=lambda *a: calls.append(a))
    assert m.column("k") == [1, 3]
    assert all(0 <= a <= 1 for a in m.column("acceptance rate"))
    assert m.column("identical to greedy") == [True, True]
    assert m.setup["n_new"] == 6 and len(calls) == 3
    assert all(r > 0 for r in m.column("speed-up"))
    assert any("identical to the target" in note for note in m.notes)
