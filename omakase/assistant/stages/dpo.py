"""DPO: preference tuning without a reward model or an RL loop (Rafailov et al., 2023).

RLHF fits a reward model to the comparisons, then pushes the policy up that
reward with RL while a KL penalty holds it near the SFT model (the reference).
The DPO paper shows the best policy of that problem is known in closed form,
and turns it round: the policy itself defines a reward,

    r(prompt, reply) = beta * (log pi(reply | prompt) - log ref(reply | prompt))

and plugging that into the Bradley-Terry loss of the reward model gives a loss
on the policy alone, over the same (chosen, rejected) pairs:

    -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))

where pi_c is the log-probability of the chosen reply's tokens under the policy,
summed over the reply (the chat rendering's mask says which tokens are the
reply: its words and its <|end|>), and ref_c the same under the frozen SFT
model. At the start the policy is the reference, every difference is 0 and the
loss is log 2. Training raises the chosen reply's log-probability relative to
the reference and lowers the rejected one's; beta sets how far from the
reference it may go (small beta: far).

The loss only asks that the margin grow, and the cheapest way to grow it can
lower the chosen reply's probability too, as long as the rejected one falls
faster: the policy then drifts to replies neither side wrote. `nll` adds the
chosen replies' mean negative log-likelihood per token, times that weight, to
the loss (Pang et al. 2024, "Iterative Reasoning Preference Optimization"),
which holds the chosen replies up while the margin grows.

The measurement: the tuned model and the SFT model answer held-out prompts
(greedy), the rubric scores both answers, and the tuned model wins, ties or
loses each prompt. The win rate counts a tie as half a win, so 0.5 means "no
better than SFT" whatever the share of ties (the wins, ties and losses are
reported beside it).
"""

from __future__ import annotations

import copy
import math

from ...errors import OmakaseError
from . import preference
from ..measure.evaluate import MAX_NEW, Rate
from ...fit import Loss, fit
from ...plan import Plan
from .pretrain import IGNORE


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta: float):
    """Mean over pairs of -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r))); tensors of shape (N,)."""
    import torch.nn.functional as F

    margin = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


def reply_logprobs(model, data, rows):
    """Summed log-probability of each row's reply tokens (targets that are not IGNORE), shape (len(rows),)."""
    inputs, targets = data.batch(rows)
    device = model.w("wte").device
    inputs, targets = inputs.to(device), targets.to(device)
    logp = model(inputs).float().log_softmax(-1)
    trained = targets != IGNORE
    picked = logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # IGNORE rows read token 0, then masked
    return (picked * trained).sum(-1)


def all_reply_logprobs(model, data, batch_size: int = 64):
    """reply_logprobs of every row, without gradients."""
    import torch

    n = len(data.inputs)
    with torch.no_grad():
        return torch.cat([reply_logprobs(model, data, torch.arange(s, min(s + batch_size, n)))
                          for s in range(0, n, batch_size)]) if n else torch.zeros(0)


def dpo(sft_model, bpe, pairs, plan: Plan, beta: float = 0.1, nll: float = 0.0, progress=None):
    """A copy of the SFT model tuned with DPO on the pairs through the one loop (fit.py); the SFT model
    stays as it was (the reference). `nll` weighs the chosen replies' per-token NLL added to the loss.

    Returns (tuned model, history): per step the loss, the mean margin (pi_c - ref_c) - (pi_r - ref_r)
    and the share of the batch's pairs whose margin is positive (the implicit reward's accuracy)."""
    import torch

    if beta <= 0:
        raise OmakaseError(f"beta must be > 0 (it scales the implicit reward), got {beta}")
    if nll < 0:
        raise OmakaseError(f"nll must be >= 0 (the weight of the chosen replies' likelihood), got {nll}")
    chosen, rejected = preference.pair_data(pairs, bpe, sft_model.config.block_size)
    chosen_tokens = (chosen.targets != IGNORE).sum(-1).clamp(min=1)  # each chosen reply's length in tokens
    reference = sft_model.eval()
    ref_chosen, ref_rejected = all_reply_logprobs(reference, chosen), all_reply_logprobs(reference, rejected)
    policy = copy.deepcopy(sft_model)
    generator = torch.Generator().manual_seed(plan.seed)

    def next_batch(step):
        return torch.randint(0, len(pairs), (min(plan.batch_size, len(pairs)),), generator=generator)

    def loss(model, rows) -> Loss:
        pi_c, pi_r = reply_logprobs(model, chosen, rows), reply_logprobs(model, rejected, rows)
        ref_c, ref_r = ref_chosen[rows].to(pi_c.device), ref_rejected[rows].to(pi_c.device)
        margin = ((pi_c - ref_c) - (pi_r - ref_r)).detach()
        n = len(rows)
        value = dpo_loss(pi_c, pi_r, ref_c, ref_r, beta)
        if nll:
            value = value - nll * (pi_c / chosen_tokens[rows].to(pi_c.device)).mean()
        return Loss(value, n,
                    {"margins": (float(margin.mean()), n), "accuracy": (float((margin > 0).float().mean()), n)})

    report = (lambda step, h: progress(step, plan.steps)) if progress else None
    fitted = fit(policy, loss, next_batch, plan, progress=report)
    history = {"losses": fitted.losses, "margins": fitted.metrics["margins"], "accuracy": fitted.metrics["accuracy"]}
    policy.eval()
    return policy, history


def implicit_reward_accuracy(tuned, sft_model, bpe, pairs) -> Rate:
    """DPO's policy is also a reward model, r = beta * (log pi - log ref): the share of pairs whose
    chosen reply it rewards strictly more (held-out pairs: comparable with the reward model's pair accuracy)."""
    chosen, rejected = preference.pair_data(pairs, bpe, sft_model.config.block_size)
    margin = ((all_reply_logprobs(tuned, chosen) - all_reply_logprobs(sft_model, chosen)) -
              (all_reply_logprobs(tuned, rejected) - all_reply_logprobs(sft_model, rejected)))
    return Rate.of((margin > 0).tolist())


def win_rate(tuned, sft_model, bpe, prompts: list[preference.Prompt], max_new: int = MAX_NEW, tools=None,
             sft_replies: list[str] | None = None) -> dict:
    """Tuned against SFT on the prompts (greedy answers, through the tool orchestrator with `tools`), judged by
    the rubric on what the guest reads: a win is 1, a tie 0.5, a loss 0. `sft_replies`, when given, are the SFT
    model's greedy replies already drawn (`greedy_replies`), so a caller measuring them elsewhere draws them once.

    Returns {"win_rate": Rate (ties as half), "decided": Rate (wins among the prompts not tied), "wins", "ties", "losses", "score": {"tuned", "sft"} mean rubric scores,
    "criteria": {"tuned", "sft"} per-criterion Rates, "by_kind": {kind: Rate}, "examples": a few answers side by side}."""
    if not prompts:
        raise OmakaseError("there are no prompts to compare on; pass preference.preference_prompts(..., held_out=True)")
    tuned_replies = greedy_replies(tuned, bpe, prompts, max_new, tools)
    if sft_replies is None:
        sft_replies = greedy_replies(sft_model, bpe, prompts, max_new, tools)
    elif len(sft_replies) != len(prompts):
        raise OmakaseError(f"{len(sft_replies)} SFT replies for {len(prompts)} prompts; pass one reply per prompt")
    tuned_scores = [preference.score(p, r) for p, r in zip(prompts, tuned_replies)]
    sft_scores = [preference.score(p, r) for p, r in zip(prompts, sft_replies)]
    outcomes = [1.0 if t > s else 0.5 if t == s else 0.0 for t, s in zip(tuned_scores, sft_scores)]
    kinds = sorted({p.kind for p in prompts})
    return {"win_rate": Rate.of(outcomes), "decided": Rate.of([o == 1.0 for o in outcomes if o != 0.5]),
            "wins": outcomes.count(1.0), "ties": outcomes.count(0.5),
            "losses": outcomes.count(0.0),
            "score": {"tuned": _mean(tuned_scores), "sft": _mean(sft_scores)},
            "criteria": {"tuned": preference.criteria_rates(prompts, tuned_replies),
                         "sft": preference.criteria_rates(prompts, sft_replies)},
            "by_kind": {k: Rate.of([o for o, p in zip(outcomes, prompts) if p.kind == k]) for k in kinds},
            "examples": [{"prompt": p.text, "tuned": t, "sft": s} for p, t, s in
                         list(zip(prompts, tuned_replies, sft_replies))[:: max(1, len(prompts) // 4)][:4]]}


def greedy_replies(model, bpe, prompts: list[preference.Prompt], max_new: int = MAX_NEW, tools=None) -> list[str]:
    """The model's greedy reply to each prompt, as the guest reads it."""
    return [preference.answer(model, bpe, p.text, max_new, tools=tools)[1] for p in prompts]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan
