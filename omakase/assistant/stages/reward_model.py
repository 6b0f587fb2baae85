"""The reward model: the SFT model with a scalar head, trained to score answers as the critics do.

InstructGPT's reward model is the SFT network with its unembedding replaced by
one number: it reads prompt + reply and says how good the reply is. It is
trained on comparisons only, with the Bradley-Terry model: the probability
that the chosen reply beats the rejected one is sigmoid(r_chosen - r_rejected),
so the loss of a pair is

    -log sigmoid(r_chosen - r_rejected)

(log 2 when both scores are equal; near 0 when the chosen one scores far above).
Only differences matter: adding a constant to every score changes nothing.

The head reads the final hidden state at the last token of prompt + reply
(the last token of the reply's text: the causal attention has seen everything
there): GPT.forward(inputs, hidden=True) returns those hidden states instead of
the logits, and RewardModel (the GPT without its unembedding) puts its head on
them: RMSNorm (the scale of x is free) and a new nn.Linear(n_embd, 1), started
at zero, so every reply scores 0 at first and the loss starts at log 2.

The trained model is a critic the RL loop can optimize (`reward_function`);
held-out pair accuracy says how well it agrees with the rubric on prompts it
never saw (beside preference.shorter_is_chosen: a critic that only learned
"shorter is better" would score that much).

A learned critic is a proxy for the real one, and optimizing a proxy hard finds
its mistakes (Goodhart; Gao et al. 2022, "Scaling Laws for Reward Model
Overoptimization"). The simplest optimizer is best-of-n: draw n answers, keep
the one the reward model likes best. As n grows the proxy reward can only go up;
`best_of_n` measures whether the rubric's score goes up with it, or turns down.
Best-of-n moves the policy by KL = log n - (n - 1)/n nats from the SFT model
(the formula of Stiennon et al. 2020; computed, not measured).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ...engines.torch import GPT, rmsnorm
from ...errors import OmakaseError
from ..measure.evaluate import MAX_NEW, Rate
from ...fit import Loss, fit
from ...plan import Plan
from .preference import conversation, pair_data
from .sft import examples


class RewardModel(GPT):
    """engines/torch.GPT with its unembedding swapped for a scalar head on the final hidden state."""

    def __init__(self, config):
        super().__init__(config)
        del self.mats["lm_head"]  # no unembedding: the head reads the hidden states
        self.names = [name for name in self.names if name != "lm_head"]
        self.head = nn.Linear(config.n_embd, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def scores(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One score per row of token ids (B, T): the head on the hidden state at position lengths - 1."""
        hidden = self(inputs, hidden=True)  # (B, T, n_embd): the final hidden states
        last = hidden[torch.arange(len(inputs), device=inputs.device), lengths.to(inputs.device) - 1]
        return self.head(rmsnorm(last)).squeeze(-1)


def reward_model(sft_model) -> RewardModel:
    """A reward model starting from the SFT model's weights (a copy: the SFT model is untouched)."""
    rm = RewardModel(sft_model.config).to(sft_model.w("wte").device)
    with torch.no_grad():
        for name in rm.names:
            rm.w(name).copy_(sft_model.w(name))
    return rm.eval()


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Mean over pairs of -log sigmoid(r_chosen - r_rejected)."""
    return -F.logsigmoid(chosen - rejected).mean()


def _scores(rm: RewardModel, data, rows) -> torch.Tensor:
    inputs, _ = data.batch(rows)
    device = rm.w("wte").device
    return rm.scores(inputs.to(device), data.lengths[rows])


def train_reward_model(rm: RewardModel, bpe, pairs, plan: Plan, progress=None) -> dict:
    """Train in place on (chosen, rejected) pairs with the Bradley-Terry loss, through the one loop (fit.py):
    AdamW, warm-up and the plan's decay, clipping.

    The critic reads what the guest reads (the replies without tool calls): what reward_function is given.

    Returns {"losses": per step, "accuracy": per step, the share of the batch's pairs scored the right way round}."""
    chosen, rejected = pair_data(pairs, bpe, rm.config.block_size, guest_only=True)
    generator = torch.Generator().manual_seed(plan.seed)

    def next_batch(step):
        return torch.randint(0, len(pairs), (min(plan.batch_size, len(pairs)),), generator=generator)

    def loss(model, rows) -> Loss:
        r_chosen, r_rejected = _scores(model, chosen, rows), _scores(model, rejected, rows)
        right = float((r_chosen > r_rejected).float().mean())
        return Loss(bradley_terry_loss(r_chosen, r_rejected), len(rows), {"accuracy": (right, len(rows))})

    report = (lambda step, h: progress(step, plan.steps)) if progress else None
    history = fit(rm, loss, next_batch, plan, progress=report)
    return {"losses": history.losses, "accuracy": history.metrics["accuracy"]}


@torch.no_grad()
def pair_scores(rm: RewardModel, bpe, pairs, batch_size: int = 64) -> tuple[list[float], list[float]]:
    """The reward model's scores of every pair's chosen and rejected replies."""
    chosen, rejected = pair_data(pairs, bpe, rm.config.block_size, guest_only=True)
    out_c, out_r = [], []
    for start in range(0, len(pairs), batch_size):
        rows = torch.arange(start, min(start + batch_size, len(pairs)))
        out_c += _scores(rm, chosen, rows).tolist()
        out_r += _scores(rm, rejected, rows).tolist()
    return out_c, out_r


def pair_accuracy(rm: RewardModel, bpe, pairs) -> Rate:
    """The share of pairs whose chosen reply the reward model scores strictly higher (a tie counts as wrong)."""
    chosen, rejected = pair_scores(rm, bpe, pairs)
    return Rate.of([c > r for c, r in zip(chosen, rejected)])


def reward_function(rm: RewardModel, bpe):
    """The reward model as reward(question, reply_text) -> float, for the RL loop (rl.py).

    `question` is the user's text or anything with a .text (a labelers.Question, a preference.Prompt).
    The function holds its own frozen copy: training the policy never moves the critic."""
    critic = copy.deepcopy(rm).eval()
    for p in critic.parameters():
        p.requires_grad_(False)

    @torch.no_grad()
    def reward(question, reply_text: str) -> float:
        data = examples([conversation(getattr(question, "text", question), reply_text)], bpe, critic.config.block_size)
        return float(_scores(critic, data, torch.tensor([0]))[0])

    return reward


def best_of_n(model, bpe, prompts, reward, ns=(1, 2, 4, 8, 16), temperature: float = 1.0, seed: int = 0,
              max_new: int = MAX_NEW, tools=None, progress=None) -> dict:
    """Best-of-n against a reward function, for each n in ns: the proxy's score of the pick, the rubric's verdict.

    Each prompt (a preference.Prompt) is answered max(ns) times; for each n the pick is the reward's favourite
    among the first n answers (the first drawn among equals). Returns {n: {"reward": mean reward of the picks,
    "rubric": Rate of the picks' rubric share (preference.rubric_share), "answers": Rate of the rubric's
    answers criterion, "kl": log n - (n - 1)/n}}."""
    from . import preference

    if not prompts:
        raise OmakaseError("there are no prompts; pass preference.preference_prompts(..., held_out=True)")
    if not ns or min(ns) < 1:
        raise OmakaseError(f"ns must be sample counts >= 1, got {tuple(ns)}")
    if temperature <= 0:
        raise OmakaseError(f"best-of-n needs temperature > 0 (answers must differ), got {temperature}")
    drawn = []  # per prompt: (reward, rubric share, answers?) of each answer, in the order drawn
    for i, p in enumerate(prompts):
        texts = [preference.answer(model, bpe, p.text, max_new, temperature, 0, seed + i * max(ns) + s, tools)[1]
                 for s in range(max(ns))]
        drawn.append([(reward(p, t), preference.rubric_share(p, t), bool(preference.answers(p, t))) for t in texts])
        if progress:
            progress(i + 1, len(prompts))
    out = {}
    for n in sorted(set(ns)):
        picks = [max(answers[:n], key=lambda a: a[0]) for answers in drawn]
        out[n] = {"reward": sum(a[0] for a in picks) / len(picks), "rubric": Rate.of([a[1] for a in picks]),
                  "answers": Rate.of([a[2] for a in picks]), "kl": math.log(n) - (n - 1) / n}
    return out
