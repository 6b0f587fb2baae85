"""RL, DPO and the reward model as stages of their own: a stage folder in, a stage folder out.

What `omakase assistant rl|dpo|reward-model` run (`build` runs the same training inside its
experiments, measure/experiments.py). Each takes an SFT model (and its tokenizer) and the
world its build was made from, trains a copy through the one loop (fit.py) and returns it
with what training recorded; the caller saves it (model.save):

    rl_stage            GRPO on training letter counts (or bills), the practice (rl.py) -> stage "rl"
    dpo.dpo             DPO on pairs of the SFT model's own answers (training_pairs)  -> stage "dpo"
    reward_model_stage  the critic: a reward model on the same pairs (reward_model.py) -> stage "reward_model"

A reward model is not a language model: its folder holds the GPT it reads with (the SFT
model's unembedding kept, unused) and its scalar head in the run ("head"), which
`reward_model_of` puts back.
"""

from __future__ import annotations

import copy

from ...errors import OmakaseError
from ...plan import Plan
from ..data import smalltalk
from ..skills.calculator import calculator_tool
from ..skills import thinking
from . import preference, reward_model, rl


def training_pairs(network, bpe, world, seed: int, per_kind: int, progress=None) -> preference.Pairs:
    """Pairs of the SFT model's own answers to training-side prompts (per_kind of each kind), judged by the
    rubric; the model may call the calculator, as in the build's preference experiment."""
    talk = smalltalk.pairs() if smalltalk.available() else []
    prompts = preference.preference_prompts(world, seed, False, per_kind, talk, bpe, network.config.block_size)
    return preference.sample_pairs(network, bpe, prompts, seed=seed, tools={"calc": calculator_tool})


def rl_stage(sft_network, bpe, world, plan: Plan, progress=None, task: str = "letters") -> tuple[object, rl.History]:
    """A copy of the SFT model after GRPO on the world's training questions of `task` (the build's practice
    tasks: "letters", counts spelled out first, reward 1 for the right count; or "bills", prices shown,
    reward 1 for the right total), the SFT model as the KL reference (measured, not penalized); (policy, history)."""
    block = sft_network.config.block_size
    if task == "letters":
        questions = [q for q in thinking.letter_questions(world, plan.seed)
                     if thinking.length(thinking.letter_conversations([q], "spelled")[0], bpe) <= block]
        reward = lambda q, text: float(thinking.is_right_count(q, text))  # noqa: E731
    elif task == "bills":
        questions, reward = thinking.practice_bills(world, bpe, block, plan.seed), rl.right_total
    else:
        raise OmakaseError(f"unknown practice task {task!r}; choose letters or bills")
    policy = copy.deepcopy(sft_network)
    history = rl.grpo(policy, bpe, questions, plan, reward=reward, reference=sft_network,
                      progress=(lambda step, h: progress(step, plan.steps)) if progress else None)
    return policy, history


def reward_model_stage(sft_network, bpe, pairs: list[preference.Pair], plan: Plan,
                       progress=None) -> tuple[reward_model.RewardModel, dict]:
    """A reward model from the SFT model, trained on the pairs: (reward model, history)."""
    rm = reward_model.reward_model(sft_network)
    history = reward_model.train_reward_model(rm, bpe, pairs, plan, progress)
    return rm, history


def reward_model_parts(rm, sft_network) -> tuple[object, dict]:
    """What a reward model's folder holds: a GPT (its weights, the SFT model's unused unembedding) and the head."""
    import torch

    trunk = copy.deepcopy(sft_network)
    with torch.no_grad():
        for name in trunk.names:
            if name != "lm_head":
                trunk.w(name).copy_(rm.w(name))
    head = {"weight": rm.head.weight.detach().double().cpu()[0].tolist(), "bias": float(rm.head.bias.detach()[0])}
    return trunk, head


def reward_model_of(network, head: dict) -> reward_model.RewardModel:
    """The reward model a folder holds: its GPT (a loaded stage's network) and the run's head."""
    import torch

    rm = reward_model.reward_model(network)
    with torch.no_grad():
        rm.head.weight.copy_(torch.tensor([head["weight"]]))
        rm.head.bias.fill_(head["bias"])
    return rm
