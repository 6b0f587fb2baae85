"""Speculative decoding: greedy output equals the target's, and Leviathan's rule samples from the target's p."""

from types import SimpleNamespace

import pytest
import torch

from omakase.config import GPTConfig
from omakase.engines.torch import GPT
from omakase.errors import OmakaseError
from omakase.serving import frozen, speculate
from omakase.serving.generate import greedy_cached


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


def test_greedy_is_the_targets_greedy_output(target, draft):
    block = target.config.block_size
    for prompt in prompts(target):
        n_new = block - len(prompt) + 1  # as far as the block allows
        expected = greedy_cached(target.model, torch.tensor([prompt]), n_new)[0].tolist()
        for k in range(1, 9):
            out, stats = speculate.speculative_generate(target.model, draft.model, prompt, n_new, k)
            assert out == expected, (prompt, k)
            assert stats.accepted <= stats.drafted
            # every round ends with one target token: tokens = accepted drafts + target calls
            assert len(out) == stats.accepted + stats.target_calls


def test_the_drafts_wrong_guesses_are_corrected(target, draft):
    # the draft is a different model, so some of its guesses must be rejected (else the test above is idle)
    out, stats = speculate.speculative_generate(target.model, draft.model, [target.tokenizer.bos], 15, 8)
    assert stats.accepted < stats.drafted


def test_baseline_greedy_matches_and_stops_at_the_bell(target):
    bos = target.tokenizer.bos
    out, stats = speculate.sample_generate(target.model, [bos], 15)
    assert out == greedy_cached(target.model, torch.tensor([[bos]]), 15)[0].tolist()
    assert stats.target_calls == 15
    stopped, _ = speculate.sample_generate(target.model, [bos], 15, stop_at=bos)
    assert stopped[-1] == bos and bos not in stopped[:-1] and stopped == out[: len(stopped)]


def test_speculative_stops_at_the_bell(target, draft):
    bos = target.tokenizer.bos
    g = torch.Generator().manual_seed(3)
    out, _ = speculate.speculative_generate(target.model, draft.model, [bos], 15, 4, 1.0, g, stop_at=bos)
    assert bos not in out[:-1]
    assert out[-1] == bos or len(out) == 15


def test_own_draft_accepts_everything(target):
    for temperature in (0.0, 1.0):
        g = torch.Generator().manual_seed(0)
        out, stats = speculate.speculative_generate(target.model, target.model, [target.tokenizer.bos], 15, 4,
                                                    temperature, g)
        assert stats.accepted == stats.drafted > 0
        assert len(out) == 15


def distributions(seed=0, V=6):
    g = torch.Generator().manual_seed(seed)
    p = torch.softmax(torch.randn(V, generator=g, dtype=torch.float64) * 2, -1)
    q = torch.softmax(torch.randn(V, generator=g, dtype=torch.float64) * 2, -1)
    return p, q


def test_rejection_step_gives_p_exactly():
    for seed in range(5):
        p, q = distributions(seed)
        accept = torch.minimum(torch.ones_like(p), p / q)  # Leviathan's acceptance probability per token
        rejected = 1 - (q * accept).sum()
        out = q * accept + rejected * speculate.residual(p, q)
        assert torch.allclose(out, p, rtol=0, atol=1e-12)
        assert rejected > 0.05  # p and q differ: the residual matters here


def test_residual_when_draft_equals_target():
    p, _ = distributions()
    assert torch.equal(speculate.residual(p, p), p)


def test_rejection_step_samples_from_p_not_q():
    p, q = distributions(1)
    n = 20_000
    g = torch.Generator().manual_seed(1)
    drafted = torch.multinomial(q, n, replacement=True, generator=g)
    accepted, replacement = speculate.accept_or_resample(p.expand(n, -1), q.expand(n, -1), drafted, g)
    out = torch.where(accepted, drafted, replacement)
    empirical = torch.bincount(out, minlength=len(p)).double() / n
    tv = lambda a, b: 0.5 * float((a - b).abs().sum())  # noqa: E731
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
            p = torch.softmax(target.model(torch.tensor([prompt]))[0, -1], -1)
            q = torch.softmax(draft.model(torch.tensor([prompt]))[0, -1], -1)
            cases.append((tv(p, q), prompt, p, q))
    gap, prompt, p, q = max(cases, key=lambda case: case[0])
    g = torch.Generator().manual_seed(5)
    n = 1500
    counts = torch.zeros_like(p)
    for _ in range(n):
        out, _ = speculate.speculative_generate(target.model, draft.model, prompt, 2, 1, 1.0, g)
        counts[out[0]] += 1
    # sampling noise of 1,500 draws is about 0.013 in TV for these p
    assert tv(counts / n, p) < 0.05
    assert gap > 0.25 and tv(counts / n, q) > 0.2


def test_vocabulary_mismatch_is_one_clear_error(target):
    other = GPT(GPTConfig(vocab_size=target.config.vocab_size + 1, n_layer=1, n_embd=16, n_head=4, block_size=16))
    with pytest.raises(OmakaseError, match="same data"):
        speculate.speculative_generate(target.model, other, [target.tokenizer.bos], 3, 2)
    with pytest.raises(OmakaseError, match="vocabulary"):
        speculate.check_vocabulary(target.model, target.model, target.tokenizer.chars, "abc")


def test_prompts_of_a_names_model_and_a_stream(target):
    bos = target.tokenizer.bos
    assert speculate.prompts_of(target) == [[bos], [bos, 0], [bos, 12], [bos, 10]]  # the bell, a, m, k
    stream = SimpleNamespace(is_stream=True, tokenizer=target.tokenizer, held_out=[list(range(20)), [3] * 20])
    assert speculate.prompts_of(stream, stream_length=5) == [[0, 1, 2, 3, 4], [3] * 5]
    with pytest.raises(OmakaseError, match="held-out"):
        speculate.prompts_of(SimpleNamespace(is_stream=True, tokenizer=target.tokenizer, held_out=[]))


def test_measure_small(target, draft):
    calls = []
    m = speculate.measure(target, draft, ks=(1, 3), n_new=6, repeats=1, progress=lambda *a: calls.append(a))
    assert m.column("k") == [1, 3]
    assert all(0 <= a <= 1 for a in m.column("acceptance rate"))
    assert m.column("identical to greedy") == [True, True]
    assert m.setup["n_new"] == 6 and len(calls) == 3
    assert all(r > 0 for r in m.column("speed-up"))
    assert any("identical to the target" in note for note in m.notes)
