"""Prompt lookup: drafts found in the context, verified by the target; greedy output is the target's own."""

import pytest
import torch

from omakase.config import GPTConfig
from omakase.engines.torch import TorchEngine, init_gpt
from omakase.errors import OmakaseError
from omakase.model import Model, Sampler, generate
from omakase.serving import frozen
from omakase.serving.lookup import lookup_generate, propose

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def greedy(model, prompt, n_new, stop=None):
    return generate(model, prompt, sampler=Sampler(0.0), max_new=n_new, stop=stop)[0].ids


def counter(vocab: int = 4, block: int = 32) -> Model:
    """A GPT that writes t + 1 (mod vocab) after t: layers and positions zeroed, so the logits are the last
    token's embedding (one-hot) read by an lm_head whose row j looks for j - 1."""
    net = init_gpt(GPTConfig(vocab, n_layer=1, n_embd=8, n_head=2, block_size=block), seed=0).eval()
    with torch.no_grad():
        for name in net.names:
            net.w(name).zero_()
        for t in range(vocab):
            net.w("wte")[t, t] = 1.0
            net.w("lm_head")[(t + 1) % vocab, t] = 1.0
    return Model(TorchEngine.around(net), None)


def test_propose_finds_the_latest_longest_match():
    assert propose([5, 1, 2, 9, 1, 2, 7, 1, 2], k=2) == [7, 1]  # "1 2" last followed by 7
    assert propose([1, 2, 3, 4, 2, 3, 8, 3], k=3) == [8, 3]  # no "8 3" earlier: the latest earlier "3" alone
    assert propose([4, 5, 6, 7], k=3) == [] and propose([4], k=3) == []
    assert propose([1, 2, 1, 2], k=5) == [1, 2]  # what followed, as far as the sequence goes


def test_a_repetitive_prompt_drafts_what_the_target_writes():
    model = counter()
    prompt = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    out, stats = lookup_generate(model, prompt, 20, 4, Sampler(0.0))
    assert out == greedy(model, prompt, 20) == [(2 + i) % 4 for i in range(20)]
    assert stats.accepted == stats.drafted > 0 and stats.draft_calls == 0
    assert stats.target_calls < 20 and len(out) == stats.accepted + stats.target_calls


def test_greedy_is_the_targets_greedy_output_on_random_and_trained_models(target_ckpt):
    random = Model(TorchEngine.around(init_gpt(GPTConfig(8, n_layer=2, n_embd=16, n_head=2, block_size=48),
                                               seed=3).eval()), None)
    gen = torch.Generator().manual_seed(0)
    for prompt in ([1], torch.randint(8, (6,), generator=gen).tolist(), [2, 5, 2, 5, 2]):
        for k in (1, 3, 8):
            out, stats = lookup_generate(random, prompt, 40, k, Sampler(0.0))
            assert out == greedy(random, prompt, 40), (prompt, k)
            assert stats.accepted <= stats.drafted and len(out) == stats.accepted + stats.target_calls
    names = frozen.laminate(target_ckpt, "float64")
    bos, ids = names.tokenizer.bos, names.tokenizer.ids
    for prompt in ([bos], [bos] + ids("anna") + [bos] + ids("an")):
        n_new = names.config.block_size - len(prompt) + 1
        for k in (1, 4):
            assert lookup_generate(names, prompt, n_new, k, Sampler(0.0))[0] == greedy(names, prompt, n_new)
            assert lookup_generate(names, prompt, n_new, k, Sampler(0.0), stop_at=bos)[0] == greedy(
                names, prompt, n_new, stop=bos)


def test_sampling_keeps_the_bookkeeping_and_the_block():
    model = counter()
    out, stats = lookup_generate(model, [0, 1, 2, 3, 0], 25, 4, Sampler(1.0, seed=1))
    assert len(out) == 25 == stats.accepted + stats.target_calls and 0 < stats.accepted < stats.drafted
    with pytest.raises(OmakaseError, match="do not fit"):
        lookup_generate(model, [0, 1], 40, 4, Sampler(0.0))
    with pytest.raises(OmakaseError, match="at least 1"):
        lookup_generate(model, [0, 1], 4, 0, Sampler(0.0))
