"""The one plan and the one training loop: the schedule's shapes, what fit promises a loss, Ming's Adam as a torch optimizer."""

import math
import random

import pytest

from omakase.plan import NANOGPT, Plan, learning_rate, nanogpt_plan
from omakase.errors import OmakaseError


def test_a_constant_rate_is_min_lr_equal_to_lr_in_both_schedules():
    for schedule in ("linear", "cosine"):
        plan = Plan(steps=50, lr=1e-3, min_lr=1e-3, schedule=schedule)
        assert {learning_rate(plan, s) for s in range(50)} == {1e-3}


def test_nanogpt_plan_warms_up_then_follows_a_cosine_to_its_floor():
    plan = nanogpt_plan(100, lr=1e-2, min_lr=1e-3, warmup=10)
    assert (plan.beta1, plan.beta2, plan.weight_decay, plan.clip, plan.schedule) == (0.9, 0.95, 0.1, 1.0, "cosine")
    rates = [learning_rate(plan, s) for s in range(100)]
    assert rates[:10] == pytest.approx([1e-2 * (s + 1) / 10 for s in range(10)])
    half = (10 + 100) // 2  # halfway through the decay the cosine is at the middle of lr and min_lr
    assert rates[half] == pytest.approx((1e-2 + 1e-3) / 2)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:])) and rates[-1] > 1e-3
    assert nanogpt_plan(5, warmup=0).batch_size == NANOGPT["batch_size"]


@pytest.mark.parametrize("bad", [dict(steps=10, warmup=11), dict(steps=0), dict(eval_every=0), dict(lr=math.inf)])
def test_a_bad_plan_is_one_clear_error(bad):
    with pytest.raises(OmakaseError):
        Plan(**bad)


torch = pytest.importorskip("torch")

from omakase.adam import Adam  # noqa: E402
from omakase.config import GPTConfig, init_params  # noqa: E402
from omakase.engines.torch import ReferenceAdam, TorchEngine  # noqa: E402
from omakase.fit import Loss, fit, share  # noqa: E402


def line():
    """y = 3x + 1 to learn with one weight and one bias; batches of 4 points."""
    model = torch.nn.Linear(1, 1)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    xs = torch.linspace(-1, 1, 16).unsqueeze(1)

    def next_batch(step):
        rows = torch.arange(4 * step, 4 * step + 4) % 16
        return xs[rows], 3 * xs[rows] + 1

    def loss(m, batch):
        x, y = batch
        error = m(x) - y
        return Loss((error ** 2).mean(), len(x), {"error": (float(error.detach().abs().mean()), len(x))})

    return model, next_batch, loss


def test_fit_trains_records_and_measures_on_the_plans_cadence():
    model, next_batch, loss = line()
    steps_seen = []
    history = fit(model, loss, next_batch, Plan(steps=60, lr=0.3, batch_size=4, eval_every=20),
                  evaluate=lambda m: float(m.weight.detach()), progress=lambda step, h: steps_seen.append(step))
    assert len(history.losses) == len(history.metrics["error"]) == 60 and history.tokens == 60 * 4
    assert history.losses[-1] < 0.01 < history.losses[0]
    assert [s for s, _ in history.val] == [20, 40, 60] and history.val[-1][1] == pytest.approx(3, abs=0.2)
    assert steps_seen == list(range(1, 61)) and not model.training


def test_nothing_to_learn_means_no_update_not_even_momentums():
    model, next_batch, loss = line()
    fit(model, loss, next_batch, Plan(steps=3, lr=0.1))
    before = [p.detach().clone() for p in model.parameters()]
    calls = []
    fit(model, lambda m, b: Loss(loss(m, b).value, 4, learn=False), next_batch, Plan(steps=3, lr=0.1),
        after_update=lambda m: calls.append(1))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())) and calls == []


def test_a_process_takes_every_world_th_row_of_each_part():
    rows = torch.arange(10)
    assert share(rows, 0, 1) is rows
    assert share((rows, rows * 10), 1, 3)[1].tolist() == [10, 40, 70]
    assert share(list("abcdef"), 0, 2) == ["a", "c", "e"]
    with pytest.raises(OmakaseError, match="batch size of at least 4"):
        share(rows[:3], 0, 4)


def test_reference_adam_is_the_torch_engines_update_exactly():
    config = GPTConfig(vocab_size=11, n_embd=8, n_head=2, block_size=6)
    params = init_params(config, random.Random(0))
    docs = [[10, 1, 2, 3, 10], [10, 4, 5, 10]]
    engine, twin = (TorchEngine(config, params, dtype="float32") for _ in range(2))
    adam = Adam(weight_decay=0.1)
    optimizer = ReferenceAdam(twin.tensors, adam, lr=0.05)
    for t in range(1, 4):
        engine.loss_and_grads(docs)
        engine.update(adam, 0.05, t)
        twin.loss_and_grads(docs)
        optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(engine.tensors, twin.tensors))
    assert all(torch.equal(a, b) for a, b in zip(engine.m + engine.v, optimizer.m + optimizer.v))
