"""What the notes claim, measured: every rate over held-out questions, with a 95% bootstrap interval.

Answers are greedy (temperature 0): the model's single likeliest reply, so a
rate is a property of the model, not of a dice roll. A rate is a `Rate`: the
share, its interval (percentile bootstrap over questions, lab/significance.py)
and how many questions it stands on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ...significance import bootstrap_ci
from ..data import labelers
from ..skills.reply import reply
from ..skills.tools import as_written, reply_with_tools

MAX_NEW = 48  # tokens an answer may take; answers in the SFT data are a sentence or two


@dataclass
class Rate:
    share: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, outcomes: list[bool], seed: int = 0) -> "Rate":
        mean, low, high = bootstrap_ci([float(x) for x in outcomes], seed=seed)
        return cls(mean, low, high, len(outcomes))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    reply: str  # what the guest reads (tool calls and results left out)
    stopped: bool  # the model closed its turn with <|end|>
    calls: list = field(default_factory=list)  # the tool calls it made (tools.ToolCall), when it had tools
    shown: str = ""  # the whole turn as written, calls and results included (tools.as_written)


def ask(model, bpe, questions: list[str], system: str | None = None, max_new: int = MAX_NEW,
        temperature: float = 0.0, seed: int = 0, progress=None, tools: dict | None = None) -> list[Answer]:
    """Each question as a one-turn conversation; the model's reply to each (its tool calls run by the
    orchestrator when `tools` maps "calc"/"search" to tools: see tools.reply_with_tools)."""
    out = []
    for i, text in enumerate(questions):
        conversation = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
        if tools is None:
            said = reply(model, bpe, conversation, max_new, temperature, seed=seed + i)
            out.append(Answer(text, said.text, said.stopped, [], said.text))
        else:
            said = reply_with_tools(model, bpe, conversation, tools, max_new, temperature, seed=seed + i)
            out.append(Answer(text, said.text, said.stopped, said.calls, as_written(said, bpe)))
        if progress:
            progress(i + 1, len(questions))
    return out


def in_format(answers: list[Answer]) -> Rate:
    """The share answered in the assistant format: a reply that closes its turn with <|end|>."""
    return Rate.of([a.stopped and bool(a.reply.strip()) for a in answers])


def seen_group(mentions: int, buckets=(1, 3, 10, 30)) -> int:
    """The bucket nearest to how often a fact was actually seen in training, on a log scale (0: never).

    Facts are written into 1, 3, 10 or 30 documents, but the validation split takes
    some of those documents away: a fact written 30 times may be read 27 times,
    one written once may be read 0 times. Grouping by what was read is the honest axis.
    """
    if mentions <= 0:
        return 0
    return min(buckets, key=lambda b: abs(math.log(mentions) - math.log(b)))


def knowledge(questions: list, answers: list[Answer], seen: dict[str, int]) -> dict:
    """Accuracy overall and by how often the training documents stated the fact (`seen`: fact id -> mentions)."""
    right = [labelers.is_correct(q, a.reply) for q, a in zip(questions, answers)]
    groups = [seen_group(seen.get(q.fact_id, 0)) for q in questions]
    by_group = {g: Rate.of([r for r, h in zip(right, groups) if h == g]) for g in sorted(set(groups))}
    return {"all": Rate.of(right), "by_seen": by_group, "right": right}


def refusals(answers: list[Answer]) -> Rate:
    """The share of replies that say they do not know."""
    return Rate.of([labelers.is_refusal(a.reply) for a in answers])


def polite_refusals(answers: list[Answer]) -> Rate:
    """On harmful requests: the share of replies that decline, politely."""
    return Rate.of([labelers.is_polite_refusal(a.reply) for a in answers])


def confident_inventions(answers: list[Answer]) -> Rate:
    """On dishes that do not exist: the share of replies that answer anyway (no refusal), i.e. hallucinate."""
    return Rate.of([a.stopped and not labelers.is_refusal(a.reply) for a in answers])


def mentions(answers: list[Answer], name: str) -> Rate:
    """The share of replies that give `name` (knowledge of self: does it say who the SFT data says it is?)."""
    return Rate.of([name.lower() in a.reply.lower() for a in answers])


def probe(model, bpe, questions: list, samples: int = 3, temperature: float = 1.0, seed: int = 0) -> list:
    """Karpathy's probe: ask each question several times at temperature > 0; the ones it ever gets wrong
    are the ones it does not know (they get "I don't know" answers in the next round of SFT)."""
    unknown = []
    for i, q in enumerate(questions):
        conversation = [{"role": "user", "content": q.text}]
        replies = [reply(model, bpe, conversation, MAX_NEW, temperature, seed=seed + i * samples + s).text
                   for s in range(samples)]
        if not all(labelers.is_correct(q, r) for r in replies):
            unknown.append(q)
    return unknown


def evenly(items: list, n: int | None) -> list:
    """At most n items, evenly spaced through the list (every bucket and kind keeps its share); None: all."""
    if n is None or len(items) <= n:
        return items
    return [items[i * len(items) // n] for i in range(n)]
