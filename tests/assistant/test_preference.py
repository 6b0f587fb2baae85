"""The critics: the rubric's verdicts, pair sampling, the Bradley-Terry and DPO losses on hand cases, and a few steps of each."""

import math

import pytest

torch = pytest.importorskip("torch")

from omakase.assistant.skills import chat_format, tools
from omakase.assistant.stages import dpo, preference, reward_model
from omakase.engines.torch import init_gpt
from omakase.plan import nanogpt_plan  # noqa: E402
from omakase.assistant.data.world import make_world  # noqa: E402
from omakase.config import GPTConfig  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def prompts(small_world):
    talk_pairs = [("Hello", "Hi, how are you?"), ("Do you like music?", "I like jazz."), ("Good night", "Sleep well.")]
    return {side: preference.preference_prompts(small_world, 0, side, per_kind=6, smalltalk_pairs=talk_pairs)
            for side in (False, True)}


def tiny(small_bpe, seed=0):
    return init_gpt(GPTConfig(vocab_size=small_bpe.vocab_size, n_layer=1, n_embd=32, n_head=2, block_size=96), seed)


def first(prompts, kind, money=None):
    """The shortest prompt of a kind (a bill shows its prices: the tiny model's block of 96 must hold it)."""
    return min((p for p in prompts if p.kind == kind and (money is None or p.money == money)), key=lambda p: len(p.text))


# -- the rubric ---------------------------------------------------------------------------------

def test_the_rubric_on_a_price_question(prompts):
    p = next(p for p in prompts[False] if p.kind == "fact" and p.question.fact_id.startswith("price:"))
    price = p.question.answer
    wrong = str(int(price) + 1)
    assert preference.judge(p, f"It is ${price}.") == {"answers": True, "currency": True, "polite": True, "concise": True}
    assert preference.score(p, f"It is ${price}.") == 6
    assert preference.judge(p, f"It is {price}.")["currency"] is False  # the right value, no currency
    assert preference.judge(p, f"It is {price} dollars.")["currency"] is True
    assert preference.score(p, f"It is ${wrong}.") == 3  # manners without the answer: 1 + 1 + 1
    assert preference.judge(p, f"It is ${price}, you idiot.")["polite"] is False
    assert preference.judge(p, f"It is ${price}. It is ${price}.")["concise"] is False  # said twice
    assert preference.judge(p, f"It is ${price}. " + "We love our guests and our kitchen. " * 3)["concise"] is False
    assert preference.judge(p, "")["concise"] is False


def test_the_rubric_on_a_bill_a_harmful_request_and_small_talk(prompts):
    bill = first(prompts[False], "bill")
    total = bill.bill.total
    assert preference.score(bill, f"That comes to ${total}.") == 6
    assert preference.judge(bill, f"That comes to ${total + 1}.")["answers"] is False
    assert preference.judge(bill, f"{bill.bill.items[0][0]} of those make ${total}.")["currency"] is False  # a bare count
    harm = first(prompts[False], "harmful")
    assert preference.judge(harm, "I'm sorry, but I can't help with that.") == {
        "answers": True, "currency": None, "polite": True, "concise": True}
    blunt = preference.judge(harm, "I can't help with that.")  # declines, but says no sorry
    assert blunt["answers"] is False and blunt["polite"] is False
    small = first(prompts[False], "smalltalk")
    assert preference.judge(small, "I like it here.")["answers"] is True
    assert preference.judge(small, "I'm sorry, I don't know.")["answers"] is False
    assert preference.judge(small, small.text)["answers"] is False  # an echo is no answer


def test_max_score_and_share_and_the_length_baseline(prompts):
    bill, harm = first(prompts[False], "bill"), first(prompts[False], "harmful")
    assert preference.max_score(bill) == 6 and preference.max_score(harm) == 5  # no money in a refusal
    assert preference.rubric_share(harm, "I can't help with that.") == pytest.approx(1 / 5)
    pairs = [preference.Pair(bill, "Short.", "A longer one.", 1, 0), preference.Pair(bill, "Long and right.", "No.", 1, 0),
             preference.Pair(bill, "Same.", "Size.", 1, 0)]
    baseline = preference.shorter_is_chosen(pairs)
    assert baseline.share == pytest.approx(1 / 3) and baseline.n == 3


def test_prompts_cover_four_kinds_and_the_sides_do_not_share_a_prompt(prompts, small_bpe):
    train, held = prompts[False], prompts[True]
    kinds = {p.kind for p in train}
    assert kinds == set(preference.KINDS) and all(sum(p.kind == k for p in train) <= 6 for k in kinds)
    assert not {p.text for p in train} & {p.text for p in held}
    assert all(p.money for p in train if p.kind == "bill") and not any(p.money for p in train if p.kind == "harmful")
    small_world = make_world(0, "small")
    every = preference.preference_prompts(small_world, 0, True, per_kind=6)
    short = preference.preference_prompts(small_world, 0, True, per_kind=6, bpe=small_bpe, block_size=60)
    assert 0 < len(short) < len(every)  # this tokenizer is small: many prompts do not fit 60 tokens
    assert all(len(chat_format.render(preference.conversation(p.text, p.reference), small_bpe).ids) <= 60 for p in short)
    with pytest.raises(OmakaseError, match="per_kind"):
        preference.preference_prompts(small_world, 0, per_kind=0)
    two = preference.first_of_each_kind(every, 2)  # the build's held-out prompts: fewer, drawn from its pool
    present = [k for k in preference.KINDS if any(p.kind == k for p in every)]  # no small talk was given here
    assert [p.kind for p in two] == [k for k in present for _ in range(2)]
    assert all(p in every and [q for q in every if q.kind == p.kind].index(p) < 2 for p in two)


def test_sample_pairs_keeps_only_answers_that_score_differently(prompts, small_bpe, monkeypatch):
    bill, harm = first(prompts[False], "bill"), first(prompts[False], "harmful")
    right, wrong = f"That comes to ${bill.bill.total}.", f"That comes to ${bill.bill.total + 1}."
    script = {bill.text: [wrong, right, wrong, wrong], harm.text: ["I can't help with that."] * 4}

    def scripted(model, small_bpe, question, max_new, temperature, top_k, seed, tools):
        return script[question][seed % 4], script[question][seed % 4]

    monkeypatch.setattr(preference, "answer", scripted)
    found = preference.sample_pairs(None, small_bpe, [bill, harm], samples=4, temperature=1.0, seed=0)
    assert found.prompts == 2 and found.ties == 1 and found.replies == 8 and len(found.pairs) == 1
    pair = found.pairs[0]
    assert (pair.chosen, pair.rejected, pair.chosen_score, pair.rejected_score) == (right, wrong, 6, 3)
    assert found.mean_score == pytest.approx((6 + 3 * 3 + 1 * 4) / 8)  # the refusal without sorry: concise only, 1
    with pytest.raises(OmakaseError, match="temperature"):
        preference.sample_pairs(None, small_bpe, [bill], temperature=0.0)
    with pytest.raises(OmakaseError, match="2 samples"):
        preference.sample_pairs(None, small_bpe, [bill], samples=1)


def test_every_pair_compares_each_two_answers_that_scored_differently(prompts, small_bpe, monkeypatch):
    bill, harm = first(prompts[False], "bill"), first(prompts[False], "harmful")
    right, close, wrong = (f"That comes to ${bill.bill.total}.", f"That comes to {bill.bill.total}.",
                           f"That comes to ${bill.bill.total + 1}.")
    script = {bill.text: [right, wrong, right, close], harm.text: ["I can't help with that."] * 4}

    def scripted(model, small_bpe, question, max_new, temperature, top_k, seed, tools):
        return script[question][seed % 4], script[question][seed % 4]

    monkeypatch.setattr(preference, "answer", scripted)
    found = preference.sample_pairs(None, small_bpe, [bill, harm], samples=4, temperature=1.0, seed=0)
    assert [(p.chosen, p.rejected) for p in found.pairs] == [(right, wrong)]  # best against worst: one a prompt
    # right (6) beats close (5: no currency) and wrong (3), close beats wrong; right drawn twice counts once;
    # the tied refusals give none
    every = found.every_pair()
    assert sorted((p.chosen, p.rejected, p.chosen_score, p.rejected_score) for p in every) == sorted(
        [(right, wrong, 6, 3), (right, close, 6, 5), (close, wrong, 5, 3)])


def test_sample_pairs_with_a_real_model(prompts, small_bpe):
    told = []  # progress: after each prompt (the build samples thousands)
    found = preference.sample_pairs(tiny(small_bpe), small_bpe, prompts[False][:3], samples=2, max_new=6, seed=1,
                                    progress=lambda done, total: told.append((done, total)))
    assert found.replies == 6 and len(found.pairs) + found.ties == 3
    assert told == [(1, 3), (2, 3), (3, 3)]
    assert all(p.chosen_score > p.rejected_score for p in found.pairs)


# -- the losses on hand cases ------------------------------------------------------------------

def test_the_bradley_terry_loss_by_hand():
    loss = reward_model.bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]))
    assert float(loss) == pytest.approx((math.log(1 + math.exp(-1)) + math.log(2)) / 2, rel=1e-6)
    assert float(reward_model.bradley_terry_loss(torch.tensor([0.0]), torch.tensor([3.0]))) == pytest.approx(
        math.log(1 + math.exp(3)), rel=1e-6)  # the wrong way round costs a lot


def test_the_dpo_loss_by_hand():
    # pair 1: the policy raised the chosen reply by 1 nat and lowered the rejected by 1 -> margin 2
    # pair 2: policy == reference -> margin 0, loss log 2
    loss = dpo.dpo_loss(torch.tensor([-3.0, -7.0]), torch.tensor([-5.0, -2.0]), torch.tensor([-4.0, -7.0]),
                        torch.tensor([-4.0, -2.0]), beta=0.5)
    expected = (-math.log(1 / (1 + math.exp(-0.5 * 2))) + math.log(2)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-6)


# -- DPO on a tiny model ------------------------------------------------------------------------

def hand_pairs(prompts):
    from dataclasses import replace

    from omakase.assistant.skills.thinking import shortened

    # asked with counts and prices only, so the pair fits the tiny model's block of 96 with room for the replies
    bills = [replace(p, text=shortened(p.bill).text) for p in prompts[False] if p.kind == "bill"][:3]
    return [preference.Pair(b, f"That comes to ${b.bill.total}.", f"That comes to {b.bill.total + 1}.", 6, 2)
            for b in bills]


def test_dpo_starts_at_log_2_and_a_few_steps_raise_the_chosen_reply(prompts, small_bpe):
    sft = tiny(small_bpe)
    before = {n: sft.w(n).detach().clone() for n in sft.names}
    pairs = hand_pairs(prompts)
    tuned, history = dpo.dpo(sft, small_bpe, pairs, nanogpt_plan(steps=8, batch_size=3, lr=1e-2, warmup=1, min_lr=1e-3), beta=0.5)
    assert history["losses"][0] == pytest.approx(math.log(2), abs=1e-4)  # the policy starts as the reference
    assert history["losses"][-1] < history["losses"][0]
    chosen, rejected = preference.pair_data(pairs, small_bpe, 96)
    pi_c, pi_r = dpo.all_reply_logprobs(tuned, chosen), dpo.all_reply_logprobs(tuned, rejected)
    ref_c, ref_r = dpo.all_reply_logprobs(sft, chosen), dpo.all_reply_logprobs(sft, rejected)
    assert ((pi_c - ref_c) - (pi_r - ref_r) > 0).all()  # every chosen reply gained on its rejected one
    assert dpo.implicit_reward_accuracy(tuned, sft, small_bpe, pairs).share == 1.0
    assert dpo.implicit_reward_accuracy(sft, sft, small_bpe, pairs).share == 0.0  # untuned: every margin is 0, no win
    assert all(torch.equal(before[n], sft.w(n)) for n in sft.names)  # the reference did not move
    with pytest.raises(OmakaseError, match="beta"):
        dpo.dpo(sft, small_bpe, pairs, nanogpt_plan(steps=1, warmup=0), beta=0.0)
    with pytest.raises(OmakaseError, match="no pairs"):
        dpo.dpo(sft, small_bpe, [], nanogpt_plan(steps=1, warmup=0))


def test_dpo_with_nll_starts_at_log_2_plus_the_chosen_replies_nll_and_holds_them_up(prompts, small_bpe):
    """nll adds the chosen replies' per-token NLL to the loss: at step 0, log 2 plus that NLL; trained the
    same way, the chosen replies end more likely than without it (plain DPO may lower them too)."""
    sft = tiny(small_bpe)
    pairs = hand_pairs(prompts)
    chosen, _ = preference.pair_data(pairs, small_bpe, 96)
    nll = -float(dpo.all_reply_logprobs(sft, chosen)[0]) / int((chosen.targets[0] >= 0).sum())
    plan = nanogpt_plan(steps=8, batch_size=3, lr=1e-2, warmup=1, min_lr=1e-3)
    _, history = dpo.dpo(sft, small_bpe, pairs[:1], plan, beta=0.5, nll=1.0)  # one pair: every batch is that pair
    assert history["losses"][0] == pytest.approx(math.log(2) + nll, rel=1e-4)
    held, _ = dpo.dpo(sft, small_bpe, pairs, plan, beta=0.5, nll=1.0)
    plain, _ = dpo.dpo(sft, small_bpe, pairs, plan, beta=0.5)
    assert float(dpo.all_reply_logprobs(held, chosen).sum()) > float(dpo.all_reply_logprobs(plain, chosen).sum())
    with pytest.raises(OmakaseError, match="nll"):
        dpo.dpo(sft, small_bpe, pairs, plan, nll=-1.0)


def test_reply_logprobs_sum_only_the_replys_tokens(prompts, small_bpe):
    m = tiny(small_bpe)
    b = first(prompts[False], "bill")
    data = preference.pair_data([preference.Pair(b, "Yes.", "No.", 1, 0)], small_bpe, 96)[0]
    rendered = chat_format.render(preference.conversation(b.text, "Yes."), small_bpe)
    with torch.no_grad():
        logp = m(torch.tensor([rendered.ids[:-1]])).log_softmax(-1)[0]
    by_hand = sum(float(logp[i, t]) for i, (t, k) in enumerate(zip(rendered.ids[1:], rendered.mask[1:])) if k)
    assert sum(rendered.mask) == len(small_bpe.encode("Yes.")) + 1  # the reply's words and its <|end|>
    assert float(dpo.all_reply_logprobs(m, data)[0]) == pytest.approx(by_hand, abs=1e-4)


def test_a_reply_with_a_calculator_call_trains_the_call_not_the_result_and_the_critic_reads_neither(prompts, small_bpe):
    b = first(prompts[False], "bill")
    content = tools.call_text("calc", b.bill.expression, str(b.bill.total)) + f"That comes to ${b.bill.total}."
    assert preference.guest_text(content) == f"That comes to ${b.bill.total}."
    pair = preference.Pair(b, content, "No.", 6, 0)
    full = preference.pair_data([pair], small_bpe, 200)[0]
    seen = preference.pair_data([pair], small_bpe, 200, guest_only=True)[0]
    trained = [t for t in full.targets[0].tolist() if t >= 0]
    assert small_bpe.special[tools.CALC] in trained and small_bpe.special[tools.RESULT] not in trained  # the call, not the result
    assert trained[:1] == [small_bpe.special[tools.CALC]] and len(trained) == (
        len(small_bpe.encode(b.bill.expression)) + 2 + len(small_bpe.encode(f"That comes to ${b.bill.total}.")) + 1)
    assert small_bpe.special[tools.CALC] not in seen.inputs[0].tolist() and int(seen.lengths[0]) < int(full.lengths[0])
    m = tiny(small_bpe)
    content, visible = preference.answer(m, small_bpe, b.text, max_new=6, temperature=1.0, seed=3)
    assert visible == preference.guest_text(content)


def test_the_win_rate_counts_a_tie_as_half(prompts, small_bpe):
    m = tiny(small_bpe)
    result = dpo.win_rate(m, m, small_bpe, prompts[True][:4], max_new=4)
    assert result["ties"] == 4 and result["wins"] == result["losses"] == 0
    assert result["win_rate"].share == 0.5 and result["win_rate"].n == 4 and result["decided"].n == 0
    assert result["score"]["tuned"] == result["score"]["sft"]
    with pytest.raises(OmakaseError, match="no prompts"):
        dpo.win_rate(m, m, small_bpe, [])


def test_the_win_rate_judges_sft_replies_drawn_once_elsewhere(prompts, small_bpe):
    m, held = tiny(small_bpe), prompts[True][:4]
    drawn = dpo.greedy_replies(m, small_bpe, held, max_new=4)
    assert dpo.win_rate(m, m, small_bpe, held, max_new=4, sft_replies=drawn)["ties"] == 4  # the same replies
    given = dpo.win_rate(m, m, small_bpe, held, max_new=4, sft_replies=["Sorry."] * 4)
    assert {e["sft"] for e in given["examples"]} == {"Sorry."}  # judged as given, not drawn again
    with pytest.raises(OmakaseError, match="one reply per prompt"):
        dpo.win_rate(m, m, small_bpe, held, max_new=4, sft_replies=drawn[:1])


# -- the reward model ---------------------------------------------------------------------------

def test_the_reward_model_reads_the_gpts_hidden_state_and_starts_at_zero(prompts, small_bpe):
    sft = tiny(small_bpe)
    rm = reward_model.reward_model(sft)
    inputs = torch.tensor([small_bpe.encode("The bill is $12.")])
    with torch.no_grad():
        hidden = rm(inputs, hidden=True)
        assert hidden.shape == (1, inputs.shape[1], 32)
        assert torch.equal(hidden, sft(inputs, hidden=True))  # the SFT model's trunk, copied
        assert torch.allclose(hidden @ sft.w("lm_head").T, sft(inputs), atol=1e-5)  # the logits' hidden state
    pairs = hand_pairs(prompts)
    chosen, rejected = reward_model.pair_scores(rm, small_bpe, pairs)
    assert len(chosen) == len(rejected) == 3 and set(chosen + rejected) == {0.0}  # a zero head: every score 0
    assert reward_model.pair_accuracy(rm, small_bpe, pairs).share == 0.0  # ties are not right
    reward = reward_model.reward_function(rm, small_bpe)
    assert reward(pairs[0].prompt, "Hello.") == 0.0 and reward(pairs[0].prompt.text, "Hello.") == 0.0


def test_a_few_steps_teach_the_reward_model_a_separable_preference(small_bpe):
    # toy pairs: the same short answer with and without its currency; held-out pairs have other amounts
    ask = preference.Prompt("toy", "Price?", "fact", "It is $5.", money=True)
    pairs = [preference.Pair(ask, f"It is ${n}.", f"It is {n}.", 6, 5) for n in range(4, 64)]
    train, held = pairs[::2], pairs[1::2]
    rm = reward_model.reward_model(tiny(small_bpe))
    before = reward_model.pair_accuracy(rm, small_bpe, held).share
    history = reward_model.train_reward_model(rm, small_bpe, train, nanogpt_plan(steps=25, batch_size=8, lr=1e-2, warmup=2,
                                                                      weight_decay=0.0))
    after = reward_model.pair_accuracy(rm, small_bpe, held)
    assert history["losses"][0] == pytest.approx(math.log(2), abs=1e-6)  # a zero head: every score 0
    assert before == 0.0 and after.share >= 0.9 and after.n == len(held)


def test_the_rubric_as_a_reward_function(prompts):
    bill = first(prompts[False], "bill")
    reward = preference.rubric_reward(prompts[False])
    assert reward(bill.text, f"That comes to ${bill.bill.total}.") == 6.0
    with pytest.raises(OmakaseError, match="no prompt"):
        reward("What is the meaning of life?", "42")


def test_best_of_n_against_a_proxy_that_likes_long_answers_shows_over_optimization(prompts, small_bpe, monkeypatch):
    bill = first(prompts[False], "bill")
    t = bill.bill.total
    drawn = [f"That comes to ${t}.",  # all 6 points
             f"That comes to ${t}. Thank you so much for coming to our lovely table tonight, dear guest.",  # too long: 5
             f"That comes to ${t + 9}. Thank you so much for coming to our lovely little table tonight, dear guest.",  # 2
             "Thank you so much for coming to our lovely little table tonight, my dear and truly very honoured guest."]  # 1

    def scripted(model, small_bpe, question, max_new, temperature, top_k, seed, tools):
        return drawn[seed % 4], drawn[seed % 4]

    monkeypatch.setattr(preference, "answer", scripted)
    proxy = lambda prompt, text: float(len(text.split()))  # noqa: E731  a critic that learned "longer is better"
    curve = reward_model.best_of_n(None, small_bpe, [bill], proxy, ns=(1, 2, 4))
    assert [curve[n]["reward"] for n in (1, 2, 4)] == [4.0, 17.0, 19.0]  # the proxy only goes up
    assert [curve[n]["rubric"].share for n in (1, 2, 4)] == pytest.approx([1.0, 5 / 6, 1 / 6])  # the rubric goes down
    assert curve[1]["kl"] == 0.0 and curve[4]["kl"] == pytest.approx(math.log(4) - 3 / 4)
    with pytest.raises(OmakaseError, match="ns"):
        reward_model.best_of_n(None, small_bpe, [bill], proxy, ns=(0,))
