"""RL on verifiable tasks: GRPO's advantages and loss by hand, its masks, pass@k, and a toy task learned."""

import copy
import itertools
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")

from omakase.assistant.data import bills
from omakase.assistant.skills import chat_format, tools
from omakase.assistant.stages import rl
from omakase.engines.torch import init_gpt
from omakase.assistant.skills.calculator import calculator_tool  # noqa: E402
from omakase.plan import nanogpt_plan  # noqa: E402
from omakase.assistant.data.world import make_world  # noqa: E402
from omakase.bpe import BPE  # noqa: E402
from omakase.config import GPTConfig  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402
from scripted_engine import Scripted  # noqa: E402

TEXT = ("The miso soup costs 4 dollars. 3*12+2*7=36+14=50. That comes to $50. "
        "How much are 2 eel bowls and 1 miso soup? ") * 40


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def bpe():
    return BPE.train(TEXT, 256 + 60, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)


def tiny(bpe, seed=0):
    return init_gpt(GPTConfig(vocab_size=bpe.vocab_size, n_layer=1, n_embd=32, n_head=2, block_size=96), seed)


def grads(m):
    return torch.cat([p.grad.flatten() if p.grad is not None else torch.zeros(p.numel()) for p in m.parameters()])


QUESTION = SimpleNamespace(text="How much?")


def test_advantages_are_the_group_normalised_rewards():
    assert rl.group_advantages([1, 0, 0, 1]) == pytest.approx([1, -1, -1, 1], abs=1e-3)  # mean .5, std .5
    # mean 1/4, std sqrt(3)/4: the one right answer gets +sqrt(3), the others -1/sqrt(3)
    assert rl.group_advantages([1, 0, 0, 0]) == pytest.approx([3 ** 0.5] + [-(3 ** -0.5)] * 3, abs=1e-3)
    assert rl.group_advantages([1, 1, 1]) == [0.0, 0.0, 0.0] and rl.group_advantages([0, 0]) == [0.0, 0.0]
    with pytest.raises(OmakaseError, match="at least one reward"):
        rl.group_advantages([])


def test_a_group_with_equal_rewards_gives_zero_gradient(bpe):
    m = tiny(bpe)
    group = rl.sample_group(m, bpe, rl.conversation_of(QUESTION), group=4, max_new=6, seed=1)
    loss, _ = rl.policy_loss(m, group, rl.group_advantages([1.0] * 4))
    loss.backward()
    assert grads(m).abs().max() == 0
    m.zero_grad()
    loss, _ = rl.policy_loss(m, group, rl.group_advantages([1.0, 0.0, 0.0, 0.0]))
    loss.backward()
    assert grads(m).abs().max() > 0  # a group that differs does teach


def test_a_group_is_sampled_together_without_tool_tokens(bpe):
    m = tiny(bpe)
    group = rl.sample_group(m, bpe, rl.conversation_of(QUESTION), group=5, max_new=12, seed=3)
    prompt = chat_format.render(rl.conversation_of(QUESTION), bpe, reply=True).ids
    assert len(group) == 5 and all(s.prompt_ids == prompt and 1 <= len(s.ids) <= 12 for s in group)
    assert all(s.written == [True] * len(s.ids) for s in group)
    banned = {bpe.special[t] for t in tools.TOOL_SPECIALS}
    assert not banned & {t for s in group for t in s.ids}  # practice without tools: the model computes
    assert len({tuple(s.ids) for s in group}) > 1  # temperature 1 on a random model: they differ
    greedy = rl.sample_group(m, bpe, rl.conversation_of(QUESTION), group=3, max_new=8, temperature=0.0)
    assert greedy[0].ids == greedy[1].ids == greedy[2].ids
    # the batched rows are the same tokens a one-row sampler gives at temperature 0
    assert greedy[0].ids == rl.sample_group(m, bpe, rl.conversation_of(QUESTION), group=1, max_new=8, temperature=0.0)[0].ids


def test_with_tools_the_results_are_not_the_models_actions(bpe):
    call = [bpe.special[tools.CALC]] + bpe.encode("3*12") + [bpe.special[tools.CALC_END]]
    answer = bpe.encode("That is $36.")
    scripted = Scripted(call + answer, bpe.special[chat_format.END], bpe.vocab_size, block=96)
    [sample] = rl.sample_group(scripted, bpe, rl.conversation_of(QUESTION), group=1, temperature=0.0,
                               tools={"calc": calculator_tool})
    result = [bpe.special[tools.RESULT]] + bpe.encode("36") + [bpe.special[tools.RESULT_END]]
    assert sample.ids == call + result + answer + [bpe.special[chat_format.END]]
    assert sample.written == [True] * len(call) + [False] * len(result) + [True] * (len(answer) + 1)
    assert sample.text == "That is $36." and sample.length == len(call) + len(answer)
    with pytest.raises(OmakaseError, match="max_new"):
        rl.sample_group(scripted, bpe, rl.conversation_of(QUESTION), max_new=0)


def test_the_loss_is_on_the_models_tokens_only(bpe):
    """A sample with a calculator result inside: the result's tokens are out of the mask, and the
    gradient is exactly that of -A * mean log pi over the tokens the model wrote."""
    m = tiny(bpe)
    prompt = chat_format.render(rl.conversation_of(QUESTION), bpe, reply=True).ids
    call = [bpe.special[tools.CALC]] + bpe.encode("3*12") + [bpe.special[tools.CALC_END]]
    result = [bpe.special[tools.RESULT]] + bpe.encode("36") + [bpe.special[tools.RESULT_END]]
    answer = bpe.encode("That is $36.") + [bpe.special[chat_format.END]]
    written = [True] * len(call) + [False] * len(result) + [True] * len(answer)
    sample = rl.Sample(prompt, call + result + answer, written, "That is $36.", True)
    short = rl.Sample(prompt, answer, [True] * len(answer), "That is $36.", True)
    inputs, targets, mask = rl.batch([sample, short])
    assert mask[0].sum() == len(call) + len(answer) and mask[1].sum() == len(answer)
    start = len(prompt) - 1
    assert targets[0, start:start + len(written)].tolist() == sample.ids
    assert mask[0, start:start + len(written)].tolist() == [float(w) for w in written]
    assert mask[0, :start].sum() == 0 and mask[1, start + len(answer):].sum() == 0  # prompt and padding out

    loss, _ = rl.policy_loss(m, [sample], [2.0])
    loss.backward()
    got = grads(m)
    m.zero_grad()
    logp = rl.token_logprobs(m, inputs[:1], targets[:1])[0]
    wanted = [start + i for i, w in enumerate(written) if w]
    (-2.0 * logp[wanted].mean()).backward()
    assert torch.allclose(got, grads(m), atol=1e-6)


def test_token_and_sequence_means_differ_only_with_unequal_lengths(bpe):
    m = tiny(bpe)
    group = rl.sample_group(m, bpe, rl.conversation_of(QUESTION), group=2, max_new=4, temperature=0.0)  # equal lengths
    for mean in ("token", "sequence"):
        loss, _ = rl.policy_loss(m, group, [1.0, -1.0], mean=mean)
        assert loss.item() == pytest.approx(0.0, abs=1e-6)  # ratio 1: the loss is -mean(A) over tokens
    prompt = group[0].prompt_ids
    long, short = rl.Sample(prompt, [5, 6, 7], [True] * 3, "", False), rl.Sample(prompt, [5], [True], "", False)
    token, _ = rl.policy_loss(m, [long, short], [1.0, -1.0], mean="token")
    sequence, _ = rl.policy_loss(m, [long, short], [1.0, -1.0], mean="sequence")
    assert token.item() == pytest.approx(-(3 - 1) / 4, abs=1e-6) and sequence.item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(OmakaseError, match="unknown mean"):
        rl.policy_loss(m, group, [1.0, -1.0], mean="answer")


def test_the_kl_term_is_zero_when_the_model_is_its_reference(bpe):
    m = tiny(bpe)
    group = rl.sample_group(m, bpe, rl.conversation_of(QUESTION), group=4, max_new=6, seed=2)
    advantages = [1.0, -1.0, 0.5, -0.5]
    plain, none = rl.policy_loss(m, group, advantages)
    plain.backward()
    without = grads(m)
    m.zero_grad()
    penalised, estimate = rl.policy_loss(m, group, advantages, reference=copy.deepcopy(m), kl=1.0)
    penalised.backward()
    assert none is None and estimate == pytest.approx(0.0, abs=1e-6)
    assert penalised.item() == pytest.approx(plain.item(), abs=1e-6) and torch.allclose(grads(m), without, atol=1e-6)
    _, drifted = rl.policy_loss(m, group, advantages, reference=tiny(bpe, seed=1))
    assert drifted > 1e-4  # another model: a positive KL
    with pytest.raises(OmakaseError, match="needs a reference"):
        rl.policy_loss(m, group, advantages, kl=0.1)


def test_pass_at_k_is_the_unbiased_estimator():
    assert rl.pass_at_k(5, 0, 1) == 0.0 and rl.pass_at_k(5, 5, 3) == 1.0
    assert rl.pass_at_k(4, 1, 1) == pytest.approx(0.25) and rl.pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert rl.pass_at_k(4, 2, 2) == pytest.approx(5 / 6) and rl.pass_at_k(4, 3, 2) == 1.0
    # the definition: over every way to pick k of the n samples, the share holding a right one
    outcomes = [1, 0, 0, 1, 0, 0]
    for k in (1, 2, 3, 5):
        picks = list(itertools.combinations(outcomes, k))
        assert rl.pass_at_k(6, 2, k) == pytest.approx(sum(any(p) for p in picks) / len(picks))
    with pytest.raises(OmakaseError, match="k must be between 1 and the samples"):
        rl.pass_at_k(4, 1, 5)
    with pytest.raises(OmakaseError, match="right answers must be"):
        rl.pass_at_k(4, 5, 1)


def test_pass_rates_are_rates_over_questions(bpe):
    m = tiny(bpe)
    questions = [SimpleNamespace(text=t) for t in ("How much?", "What is the bill?", "Two soups?")]
    out = rl.pass_rates(m, bpe, questions, n=4, ks=(1, 4), right=lambda q, text: "e" in text, max_new=6)
    assert out["pass@1"].n == out["pass@4"].n == out["greedy"].n == 3 and out["samples"] == 4
    assert 0 <= out["pass@1"].share <= out["pass@4"].share <= 1 and out["mean_length"] > 0
    # the greedy replies come back with their rate, so a measure of how the model answers needs no second pass
    replies = out["greedy_replies"]
    assert len(replies) == 3 and out["greedy"].share == pytest.approx(sum("e" in r for r in replies) / 3)
    with pytest.raises(OmakaseError, match="k must be between"):
        rl.pass_rates(m, bpe, questions, n=4, ks=(8,))


def test_practice_raises_the_rewarded_tokens_probability(bpe):
    """The toy task: reward 1 when the answer starts with a token of the first half of the vocabulary."""
    m = tiny(bpe)
    half = bpe.vocab_size // 2
    prompt = torch.tensor([chat_format.render(rl.conversation_of(QUESTION), bpe, reply=True).ids])

    def rewarded_mass():
        with torch.no_grad():
            return float(m(prompt)[0, -1].softmax(-1)[:half].sum())

    before = rewarded_mass()
    reference = copy.deepcopy(m)
    history = rl.grpo(m, bpe, [QUESTION], nanogpt_plan(steps=3, batch_size=2, lr=3e-2, warmup=1, weight_decay=0.0),
                          reward=lambda q, text: 0.0, reference=reference, group=8, max_new=2)
    assert history.teaching == [0.0] * 3 and rewarded_mass() == pytest.approx(before, abs=1e-6)  # nothing to learn

    def first_token_rewarded(q, text):
        ids = bpe.encode(text)
        return float(bool(ids) and ids[0] < half)

    history = rl.grpo(m, bpe, [QUESTION], nanogpt_plan(steps=8, batch_size=2, lr=3e-2, warmup=1, weight_decay=0.0),
                          reward=first_token_rewarded, reference=reference, group=8, max_new=2)
    after = rewarded_mass()
    assert after > before + 0.1, (before, after)
    assert len(history.reward) == len(history.length) == len(history.kl) == len(history.loss) == 8
    assert all(0 <= r <= 1 for r in history.reward) and all(1 <= n <= 2 for n in history.length)
    assert history.kl[0] == pytest.approx(0.0, abs=1e-6) and history.kl[-1] > history.kl[0]  # drifted from it
    told = rl.summary(history, share=0.25)  # the first and last 2 of the 8 steps
    assert told["reward"]["first"] == pytest.approx(sum(history.reward[:2]) / 2)
    assert told["length"]["last"] == pytest.approx(sum(history.length[-2:]) / 2)
    assert rl.trend([None, None]) == {"first": pytest.approx(float("nan"), nan_ok=True),
                                      "last": pytest.approx(float("nan"), nan_ok=True)}
    assert all(p.requires_grad for p in reference.parameters())  # the caller's SFT model can practise again


def test_steps_where_no_group_teaches_leave_the_weights_alone(bpe):
    """Only the first group differs; later steps tie. AdamW's momentum must not move the weights on."""
    def first_answer_only():
        calls = []

        def reward(q, text):
            calls.append(text)
            return 1.0 if len(calls) == 1 else 0.0
        return reward

    weights = []
    for steps in (1, 4):
        m = tiny(bpe)
        history = rl.grpo(m, bpe, [QUESTION], nanogpt_plan(steps=steps, batch_size=1, lr=1e-2, warmup=1),
                              reward=first_answer_only(), group=4, max_new=2)
        weights.append(torch.cat([p.detach().flatten() for p in m.parameters()]))
        assert history.teaching == [1.0] + [0.0] * (steps - 1)
    assert not torch.equal(weights[0], torch.cat([p.detach().flatten() for p in tiny(bpe).parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_practice_refuses_bad_settings(bpe):
    m = tiny(bpe)
    plan = nanogpt_plan(steps=1, batch_size=1, warmup=0)
    with pytest.raises(OmakaseError, match="at least 2 answers"):
        rl.grpo(m, bpe, [QUESTION], plan, group=1)
    with pytest.raises(OmakaseError, match="needs a reference"):
        rl.grpo(m, bpe, [QUESTION], plan, kl=0.1)
    with pytest.raises(OmakaseError, match="no questions"):
        rl.grpo(m, bpe, [], plan)


def test_the_reward_is_the_checked_total():
    world = make_world(0, "small")
    for b in bills.bill_questions(world, n=20):
        assert rl.right_total(b, b.reply) == 1.0 and rl.right_total(b, f"That is ${b.total + 1}.") == 0.0
