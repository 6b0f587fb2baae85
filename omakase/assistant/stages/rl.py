"""Reinforcement learning on verifiable tasks: the assistant practises bills and keeps what adds up.

SFT imitates the labelers' answers token by token; it never asks whether the model's
own answers are right. In RL the model practises: for each question it writes a
group of G answers at temperature 1, a checker scores each (here `bills.is_right_total`:
1 for the right total, 0 otherwise) and the answers that beat their group's average
are made likelier, the others less likely. Nobody tells it HOW to get the total:
whatever way of writing reaches it more often is reinforced. That is the notes'
DeepSeek-R1 story, where the answers grew longer as the model found that
working the problem out in its tokens pays; `grpo` records the mean answer
length at every step so the report can say what happened here, whatever it is.

The update is DeepSeek-Math's GRPO (Group Relative Policy Optimization), from its formula:

    advantage   A_i = (r_i - mean(r_1..r_G)) / (std(r_1..r_G) + eps)      (population std)
    objective   J = mean over written tokens t of every answer i of
                    [ ratio_i,t * A_i  -  beta * KL_i,t ]
                ratio_i,t = pi(o_i,t) / pi_old(o_i,t),   KL_i,t = pi_ref/pi - log(pi_ref/pi) - 1

Choices (and why):
- One gradient step per batch of groups, right after sampling (on-policy), so pi_old is
  the model itself: the ratio is 1 in value and its gradient is that of log pi. The
  PPO clip, which only bites when old samples are reused, is left out.
- No value network: the group's mean is the baseline. A group whose answers all score
  the same (all right or all wrong) has zero advantages and teaches nothing; the
  history counts the share of groups that taught something. A step where no group
  taught (and no KL penalty) makes no update at all: AdamW would otherwise go on moving
  the weights on its momentum (measured: a quick-preset model drifted to a KL of 1.8
  nats/token from the SFT model in 6 such steps after a single informative one).
- The mean is over every written token of the batch ("token", DAPO / Dr. GRPO's choice),
  not per answer first ("sequence", DeepSeek-Math's 1/|o_i|): with the per-answer mean a
  long wrong answer is punished less per token than a short one, which by itself
  pushes lengths up. With the token mean a length change is the reward's doing.
  `mean="sequence"` is there to compare.
- KL to a frozen reference (the SFT model): the k3 estimator above, >= 0 and 0 when
  the models agree. Measured whenever a reference is given; a penalty only when kl > 0.
- Practice WITHOUT tools: the tool tokens are masked out of the model's choices, so a
  right total is one the model computed in its own tokens (with the calculator, a right
  answer is mostly a right call, and there is little to discover). The model practises
  from an SFT model taught work-first answers (thinking.bill_reply(bill, "work-first")),
  so it starts with a way of working that RL can sharpen. Tools are still possible (`tools=`): the orchestrator's
  results are then read, never trained (their tokens are out of the loss mask).

pass@k (Chen et al. 2021): from n samples of which c are right, the unbiased estimate of
"at least one of k tries is right" is 1 - C(n-c, k) / C(n, k); averaged over held-out
questions, with a bootstrap interval over questions (evaluate.Rate).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Callable

from ...errors import OmakaseError
from ..data.bills import Bill, is_right_total
from ..skills.chat_format import END, render
from ..measure.evaluate import Rate
from ...fit import History as FitHistory
from ...fit import Loss, fit
from ...plan import Plan

GROUP = 8  # answers sampled per question (DeepSeek-Math uses 64; a tiny model on a CPU, 8)
MAX_NEW = 80  # tokens an answer may take: work-first bill answers spend ~40 tokens before the total (cpu BPE)
TEMPERATURE = 1.0  # the model's own distribution: practice explores what it would say
EPS = 1e-4  # the advantage's guard when a group's rewards barely differ

Reward = Callable[[object, str], float]  # (question, the text a guest reads) -> reward


def right_total(bill: Bill, text: str) -> float:
    """The verifiable reward: 1.0 when the reply ends on the bill's total, else 0.0."""
    return float(is_right_total(bill, text))


@dataclass
class Sample:
    """One sampled answer: the tokens after the prompt, and which of them the model wrote."""

    prompt_ids: list[int]
    ids: list[int]  # every new token (the model's, and a tool's results when it had tools)
    written: list[bool]  # per new token: True when the model wrote it (only those are its actions)
    text: str  # what a guest reads
    stopped: bool  # the model wrote <|end|>

    @property
    def length(self) -> int:
        """The answer's length in the model's own tokens, <|end|> not counted."""
        return sum(self.written) - int(self.stopped)


def conversation_of(question) -> list[dict]:
    """A question (anything with .text, e.g. a Bill) as a one-turn conversation."""
    return [{"role": "user", "content": question.text}]


def sample_group(model, bpe, conversation: list[dict], group: int = GROUP, max_new: int = MAX_NEW,
                 temperature: float = TEMPERATURE, seed: int = 0, tools: dict | None = None) -> list[Sample]:
    """G answers to one conversation, drawn from one seeded stream. Without tools, the G rows are
    generated together (one batch, one KV cache: they share the prompt, so every row is at the same
    position) with the tool tokens banned; with tools, one by one through the orchestrator
    (tools.reply_with_tools)."""
    from ...model import Sampler, generate
    from ..skills.reply import as_model, check_prompt
    from ..skills.tools import TOOL_SPECIALS, ToolBox, render_with_tools, visible

    if group < 1:
        raise OmakaseError(f"a group needs at least 1 answer, got {group}")
    if max_new < 1:
        raise OmakaseError(f"an answer needs room for at least 1 token, got max_new={max_new}")
    sampler = Sampler(temperature, seed=seed)
    model = as_model(model, bpe)
    end = bpe.special[END]
    if tools is not None:
        prompt = render_with_tools(conversation, bpe, reply=True).ids
        check_prompt(prompt, model.config.block_size)
        out = []
        for _ in range(group):
            made = generate(model, prompt, sampler=sampler, max_new=max_new, stop=end, tools=ToolBox(bpe, tools))[0]
            out.append(Sample(prompt, made.ids, made.written, bpe.decode(visible(made.text_ids, bpe)), made.stopped))
        return out
    prompt = render(conversation, bpe, reply=True).ids
    check_prompt(prompt, model.config.block_size)
    banned = [bpe.special[s] for s in TOOL_SPECIALS if s in bpe.special]  # no tools: the model computes
    rows = generate(model, prompt, sampler=sampler, max_new=max_new, stop=end, n=group, banned=banned)
    return [Sample(prompt, made.ids, made.written, bpe.decode(made.text_ids), made.stopped) for made in rows]


# -- the update ---------------------------------------------------------------------------------

def group_advantages(rewards: list[float], eps: float = EPS) -> list[float]:
    """(r - mean) / (std + eps) within one group (population std): above the group's average is
    positive, below negative; a group of equal rewards gets all zeros."""
    if not rewards:
        raise OmakaseError("a group needs at least one reward")
    mean = sum(rewards) / len(rewards)
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
    return [(r - mean) / (std + eps) for r in rewards]


def batch(samples: list[Sample], pad: int = 0):
    """Inputs, next-token targets and the action mask, (N, T) each, T the longest sequence - 1.

    mask[i, t] is 1 where targets[i, t] is a token the model wrote: its answer and <|end|>,
    not the prompt, not the orchestrator's results, not the padding."""
    import torch

    seqs = [s.prompt_ids + s.ids for s in samples]
    width = max(len(q) for q in seqs) - 1
    inputs = torch.full((len(seqs), width), pad, dtype=torch.long)
    targets = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros(len(seqs), width)
    for i, (s, q) in enumerate(zip(samples, seqs)):
        if len(s.written) != len(s.ids):
            raise OmakaseError(f"sample {i} has {len(s.ids)} tokens but {len(s.written)} written flags; "
                               f"give one flag per new token")
        inputs[i, :len(q) - 1] = torch.tensor(q[:-1])
        targets[i, :len(q) - 1] = torch.tensor(q[1:])
        start = len(s.prompt_ids) - 1  # the first new token is predicted at the prompt's last position
        mask[i, start:start + len(s.ids)] = torch.tensor([float(w) for w in s.written])
    return inputs, targets, mask


def token_logprobs(model, inputs, targets):
    """log pi(target) at every position, (N, T)."""
    device = model.w("wte").device
    logits = model(inputs.to(device)).float()
    return logits.log_softmax(-1).gather(-1, targets.to(device).unsqueeze(-1)).squeeze(-1)


def policy_loss(model, samples: list[Sample], advantages: list[float], reference=None, kl: float = 0.0,
                mean: str = "token"):
    """GRPO's loss (minus the objective) on the written tokens; (loss tensor, KL estimate or None).

    mean "token": every written token of the batch weighs the same; "sequence": each answer's
    tokens are averaged first, then the answers (DeepSeek-Math's 1/|o_i|)."""
    import torch

    if mean not in ("token", "sequence"):
        raise OmakaseError(f"unknown mean {mean!r}; choose token or sequence")
    if len(advantages) != len(samples):
        raise OmakaseError(f"{len(samples)} samples but {len(advantages)} advantages; give one per sample")
    if kl < 0:
        raise OmakaseError(f"the KL coefficient must be >= 0, got {kl}")
    if kl > 0 and reference is None:
        raise OmakaseError("a KL penalty needs a reference model (the SFT model); pass reference=")
    inputs, targets, mask = batch(samples)
    if not mask.sum():
        raise OmakaseError("no sample has a token the model wrote; there is nothing to learn from")
    logp = token_logprobs(model, inputs, targets)
    mask = mask.to(logp.device)
    ratio = (logp - logp.detach()).exp()  # 1 in value, grad log pi: on-policy, pi_old is the model now
    per_token = -ratio * torch.tensor(advantages, device=logp.device).unsqueeze(1)
    kl_estimate = None
    if reference is not None:
        with torch.no_grad():
            ref_logp = token_logprobs(reference, inputs, targets)
        log_ratio = ref_logp - logp
        k3 = log_ratio.exp() - log_ratio - 1  # DeepSeek-Math's unbiased, non-negative estimator
        kl_estimate = float((k3.detach() * mask).sum() / mask.sum())
        if kl > 0:
            per_token = per_token + kl * k3
    if mean == "token":
        loss = (per_token * mask).sum() / mask.sum()
    else:
        counted = mask.sum(1)
        loss = ((per_token * mask).sum(1) / counted.clamp(min=1))[counted > 0].mean()
    return loss, kl_estimate


# -- the loop -----------------------------------------------------------------------------------

@dataclass
class History:
    """Per step: the batch's mean reward, mean answer length (model tokens), KL to the reference
    (None without one), the loss, and the share of groups whose rewards differed (the only ones
    that teach anything)."""
    reward: list[float] = field(default_factory=list)
    length: list[float] = field(default_factory=list)
    kl: list[float | None] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    teaching: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, fitted: FitHistory) -> History:
        m = fitted.metrics
        return cls(m.get("reward", []), m.get("length", []), m.get("kl", []), fitted.losses, m.get("teaching", []),
                   fitted.seconds)


def grpo(model, bpe, questions: list, plan: Plan, reward: Reward = right_total, reference=None,
         kl: float = 0.0, progress=None, group: int = GROUP, max_new: int = MAX_NEW,
         temperature: float = TEMPERATURE, mean: str = "token", tools: dict | None = None) -> History:
    """GRPO in place on `questions` (e.g. training-side Bills), the kitchen's practice: plan.steps steps,
    each on plan.batch_size questions drawn at random with `group` answers each, through the one loop
    (fit.py: AdamW, warm-up and the plan's decay, clipping). progress(step, history) after every step.

    Under torchrun each process samples the answers of its share of the questions; the loss is the
    token mean over every process's written tokens (`mean="token"`), as on one process."""
    if not questions:
        raise OmakaseError("there are no questions to practise on")
    if group < 2:
        raise OmakaseError(f"a group needs at least 2 answers to compare (got {group}); use group=8")
    if kl > 0 and reference is None:
        raise OmakaseError("a KL penalty needs a reference model (the SFT model); pass reference=")
    if mean not in ("token", "sequence"):
        raise OmakaseError(f"unknown mean {mean!r}; choose token or sequence")
    frozen = []  # the reference only scores: frozen while practising, given back as it was after
    if reference is not None:
        reference.eval()
        frozen = [p for p in reference.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
    draw = random.Random(f"practice|{plan.seed}")

    def next_batch(step):  # (the answers' seed index, the question), the same draws on every process
        return [(step * plan.batch_size + i, questions[draw.randrange(len(questions))]) for i in range(plan.batch_size)]

    def loss(model, batch) -> Loss:
        model.eval()
        samples, rewards, advantages, teaching = [], [], [], 0
        for index, q in batch:
            answers = sample_group(model, bpe, conversation_of(q), group, max_new, temperature,
                                   seed=plan.seed * 1_000_003 + index, tools=tools)
            scores = [float(reward(q, s.text)) for s in answers]
            samples += answers
            rewards += scores
            advantages += group_advantages(scores)
            teaching += len(set(scores)) > 1
        model.train()
        value, kl_estimate = policy_loss(model, samples, advantages, reference, kl, mean)
        written = sum(sum(s.written) for s in samples)
        weight = written if mean == "token" else sum(any(s.written) for s in samples)
        # all groups tied and no penalty: the gradient is 0, but an AdamW step would still move the
        # weights (momentum, decay): learn=False skips the update
        return Loss(value, weight, {"reward": (sum(rewards) / len(rewards), len(rewards)),
                                    "length": (sum(s.length for s in samples) / len(samples), len(samples)),
                                    "kl": (kl_estimate, written), "teaching": (teaching / len(batch), len(batch))},
                    learn=bool(teaching) or kl > 0)

    report = (lambda step, fitted: progress(step, History.of(fitted))) if progress else None
    try:
        return History.of(fit(model, loss, next_batch, plan, progress=report))
    finally:  # a caller's SFT model stays trainable (a copy of it can practise again)
        for p in frozen:
            p.requires_grad_(True)


def trend(values: list, share: float = 0.1) -> dict:
    """The mean of the first and of the last `share` of the steps (None values, KL without a reference, skipped)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"first": math.nan, "last": math.nan}
    n = max(1, round(len(values) * share))
    return {"first": sum(values[:n]) / n, "last": sum(values[-n:]) / n}


def summary(history: History, share: float = 0.1) -> dict:
    """What the report's sentences compare: the first and the last tenth of practice, for the reward,
    the answer length (the DeepSeek-R1 question), the KL to the reference and the share of groups that taught."""
    return {name: trend(getattr(history, name), share) for name in ("reward", "length", "kl", "teaching")}


# -- pass@k -------------------------------------------------------------------------------------

def pass_at_k(n: int, c: int, k: int) -> float:
    """Chen et al. 2021's unbiased estimate of P(at least one of k samples is right), from n samples
    of which c were right: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n:
        raise OmakaseError(f"right answers must be between 0 and the samples ({n}), got {c}")
    if not 1 <= k <= n:
        raise OmakaseError(f"k must be between 1 and the samples per question ({n}), got {k}; sample more")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_rates(model, bpe, questions: list, n: int = GROUP, ks=(1, GROUP), right: Callable = is_right_total,
               temperature: float = TEMPERATURE, max_new: int = MAX_NEW, seed: int = 0,
               tools: dict | None = None, progress=None) -> dict:
    """pass@k for each k in ks from n samples per question, each a Rate over questions; with the
    greedy answer's accuracy ("greedy", evaluate's convention), the greedy replies themselves
    ("greedy_replies", for measures of how the model answers) and the mean sampled answer length."""
    if not questions:
        raise OmakaseError("there are no questions to measure on")
    for k in ks:
        if not 1 <= k <= n:
            raise OmakaseError(f"k must be between 1 and the samples per question ({n}), got {k}; sample more")
    rights: list[int] = []
    greedy: list[bool] = []
    greedy_replies: list[str] = []
    lengths: list[int] = []
    for i, q in enumerate(questions):
        answers = sample_group(model, bpe, conversation_of(q), n, max_new, temperature, seed=seed * 1_000_003 + i, tools=tools)
        rights.append(sum(bool(right(q, s.text)) for s in answers))
        lengths += [s.length for s in answers]
        best = sample_group(model, bpe, conversation_of(q), 1, max_new, 0.0, tools=tools)[0]
        greedy.append(bool(right(q, best.text)))
        greedy_replies.append(best.text)
        if progress:
            progress(i + 1, len(questions))
    out = {f"pass@{k}": Rate.of([pass_at_k(n, c, k) for c in rights]) for k in ks}
    out.update(greedy=Rate.of(greedy), greedy_replies=greedy_replies, mean_length=sum(lengths) / len(lengths),
               samples=n, temperature=temperature)
    return out
