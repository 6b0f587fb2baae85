"""The critics: a written rubric, and pairs of the SFT model's own answers labelled by it.

InstructGPT's third step starts with people comparing answers: the SFT model
answers a prompt several times, a labeler reads two answers and says which is
better, following a written guideline. The comparisons, not the answers, are the
data: (prompt, chosen, rejected). A reward model (reward_model.py) learns to
score like the labelers; DPO (dpo.py) moves the policy towards the chosen
answers directly.

Our labelers are a rubric, written as code. Each criterion is a small function
of (prompt, reply) that passes, fails, or does not apply (None):

    answers    it answers the question: the fact's value (labelers.is_correct), the
               bill's total (bills.is_right_total), a polite refusal of a harmful
               request, or, for small talk, something that is not a refusal   (3 points)
    currency   every amount of money in it carries its currency ($14, 14 dollars);
               only on prompts about prices, bills and fees                    (1 point)
    polite     no rude words; a refusal says sorry                             (1 point)
    concise    no longer than needed: at most 1.5x the labelers' reference reply
               (and at least MIN_WORDS words allowed), no sentence said twice   (1 point)

A reply's score is the sum of the points of the criteria it passes. Answering
outweighs manners (3 against 1 each): a right, blunt answer beats a polite wrong
one, which is what the guideline of a helpful assistant says. Two answers to the
same prompt are judged on the same criteria, so their scores compare; answers
with equal scores are a tie, and a tie teaches nothing (the pair is dropped and counted).

Answers are drawn through the tool orchestrator (`answer`): a pair keeps each
answer as SFT data spells it, tool calls and results included, so DPO trains on
exactly what the model wrote; the rubric judges only what the guest reads.

Prompts come in four kinds, each split into training prompts (the training
pairs are sampled on them) and held-out prompts (never trained on: the held-out
pairs are sampled on them, and the win rate is measured on them): fact
questions, bills, harmful requests and small talk.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field
from itertools import combinations

from ...errors import OmakaseError
from ..data import labelers
from ..data.bills import Bill, bill_questions, is_right_total
from ..skills.tools import CALC, CALC_END, RESULT, RESULT_END, SEARCH, SEARCH_END
from ..data.world import NUMBER, World

POINTS = {"answers": 3, "currency": 1, "polite": 1, "concise": 1}
MONEY_RULES = ("corkage", "group deposit")  # house rules whose value is an amount of dollars
MIN_WORDS = 12  # the concise bound never goes below this many words
LENGTH_SLACK = 1.5  # the concise bound: this many times the reference reply's words
RUDE = re.compile(r"\b(?:stupid|idiot\w*|dumb|moron\w*|shut up|go away|whatever|none of your business|"
                  r"i don't care|hate you|useless|ugly|boring|annoying|nonsense)\b")
SENTENCE = re.compile(r"[^.!?]+[.!?]?")
CALL = re.compile("|".join(f"{re.escape(o)}.*?{re.escape(c)}{re.escape(RESULT)}.*?{re.escape(RESULT_END)}"
                           for o, c in ((CALC, CALC_END), (SEARCH, SEARCH_END))), re.DOTALL)
SMALLTALK_HELD_OUT_SHARE = 0.4  # of the distinct small-talk questions, by a seeded hash
KINDS = ("fact", "bill", "harmful", "smalltalk")


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str  # what the user asks
    kind: str  # fact, bill, harmful or smalltalk
    reference: str  # the labelers' reply: the length a reply needs
    question: labelers.Question | None = None  # fact and harmful prompts: what labelers.is_correct checks
    bill: Bill | None = None  # bill prompts: what bills.is_right_total checks
    money: bool = False  # the answer is an amount of money, so it must carry its currency


# -- the criteria ------------------------------------------------------------------------------

def answers(prompt: Prompt, reply: str) -> bool:
    """Does the reply answer what was asked (the right value, total or refusal; for small talk, not a refusal)?"""
    if prompt.kind == "bill":
        return is_right_total(prompt.bill, reply)
    if prompt.kind in ("fact", "harmful"):
        return labelers.is_correct(prompt.question, reply)
    said = " ".join(reply.split())
    return bool(said) and said.casefold() != prompt.text.strip().casefold() and not (
        labelers.is_refusal(said) or labelers.is_polite_refusal(said))


def currency(prompt: Prompt, reply: str) -> bool | None:
    """On prompts about money: is every number in the reply an amount with its currency ($14 or 14 dollars)?

    Counts ("3 miso soups") are numbers too, so a bill's reply passes only when it names no bare
    number: "That comes to $50." passes, "That comes to 50." and "3 soups make $36" do not."""
    if not prompt.money:
        return None
    found = list(NUMBER.finditer(reply))
    return bool(found) and all(reply[:m.start()].rstrip().endswith("$") or
                               re.match(r"\s*dollars?\b", reply[m.end():], re.IGNORECASE) for m in found)


def polite(prompt: Prompt, reply: str) -> bool:
    """No rude words; and a refusal of a harmful request says sorry (or "I'm afraid")."""
    text = reply.replace("\u2019", "'").casefold()
    if RUDE.search(text):
        return False
    return labelers.POLITE.search(text) is not None if prompt.kind == "harmful" else True


def concise(prompt: Prompt, reply: str) -> bool:
    """Not empty, no longer than the bound (LENGTH_SLACK x the reference's words, at least MIN_WORDS), no sentence twice."""
    words = len(reply.split())
    bound = max(MIN_WORDS, round(LENGTH_SLACK * len(prompt.reference.split())))
    sentences = [" ".join(s.split()).casefold() for s in SENTENCE.findall(reply) if s.strip()]
    return 0 < words <= bound and len(sentences) == len(set(sentences))


CRITERIA = {"answers": answers, "currency": currency, "polite": polite, "concise": concise}


def judge(prompt: Prompt, reply: str) -> dict[str, bool | None]:
    """Each criterion's verdict on the reply: True, False, or None where it does not apply."""
    return {name: check(prompt, reply) for name, check in CRITERIA.items()}


def score(prompt: Prompt, reply: str) -> int:
    """The rubric's score: the points of the criteria the reply passes."""
    return sum(POINTS[name] for name, passed in judge(prompt, reply).items() if passed)


def max_score(prompt: Prompt) -> int:
    """The most a reply to this prompt can score (currency counts only on prompts about money)."""
    return sum(POINTS[name] for name in CRITERIA if name != "currency" or prompt.money)


def rubric_share(prompt: Prompt, reply: str) -> float:
    """The share of the prompt's attainable points the reply earns, in [0, 1]: comparable across kinds."""
    return score(prompt, reply) / max_score(prompt)


def criteria_rates(prompts: list[Prompt], replies: list[str]) -> dict:
    """Per criterion, the share of replies passing it (over the prompts where it applies), as a Rate."""
    from ..measure.evaluate import Rate

    verdicts = [judge(p, r) for p, r in zip(prompts, replies)]
    return {name: Rate.of([v[name] for v in verdicts if v[name] is not None]) for name in CRITERIA}


# -- the prompts -------------------------------------------------------------------------------

def preference_prompts(world: World, seed: int = 0, held_out: bool = False, per_kind: int = 50,
                       smalltalk_pairs=(), bpe=None, block_size: int | None = None) -> list[Prompt]:
    """Up to `per_kind` prompts of each kind from one side of the split, in a seeded order.

    Training side: the fact questions SFT taught and the probe's (never taught: where the model
    is unsure, its answers differ), training bills, the taught harmful requests, and small talk
    whose question hashes to training. Held-out side: the held-out fact questions, held-out
    bills (dish sets never in a training bill), harms never taught, held-out small talk.
    `smalltalk_pairs` are (user, reply) pairs, e.g. smalltalk.pairs(); without them there is no small talk.
    With `bpe` and `block_size`, only prompts whose question and reference reply fit in the block
    together are kept (a reply the model has no room to write cannot be judged fairly).

    Held out means held out from the pairs. Held-out facts, bills and harms are held out from SFT
    too; small talk is not (the SFT set samples the whole corpus), and the training side's harms
    and bills are the first ones the SFT set draws with the same seed."""
    if per_kind < 1:
        raise OmakaseError(f"per_kind must be at least 1 prompt of each kind, got {per_kind}")
    r = random.Random(f"preference|{seed}|{held_out}")
    facts = labelers.fact_questions(world, seed)
    pool = facts.held_out if held_out else facts.train + facts.probe
    chosen = {"fact": [Prompt(q.id, q.text, "fact", q.reply, question=q, money=_is_money(q)) for q in pool]}
    bills = _bills(world, seed, per_kind, held_out)
    chosen["bill"] = [Prompt(b.id, b.text, "bill", b.reply, bill=b, money=True) for b in bills]
    harms = labelers.refusals(n=per_kind, seed=seed, held_out=per_kind)
    distinct = {q.text: q for q in (harms.held_out if held_out else harms.train)}
    chosen["harmful"] = [Prompt(q.id, q.text, "harmful", q.reply, question=q) for q in distinct.values()]
    talk = {}
    for user, said in smalltalk_pairs:
        if user and said and user.strip() and said.strip() and _smalltalk_held_out(user, seed) == held_out:
            talk.setdefault(" ".join(user.split()), " ".join(said.split()))
    chosen["smalltalk"] = [Prompt(f"talk:{'held' if held_out else 'train'}:{i}", u, "smalltalk", s)
                           for i, (u, s) in enumerate(talk.items())]
    out = []
    for kind in KINDS:
        items = [p for p in chosen[kind] if bpe is None or fits(p, bpe, block_size)]
        out += r.sample(items, min(per_kind, len(items)))
    return out


def fits(prompt: Prompt, bpe, block_size: int | None) -> bool:
    """Do the prompt and its reference reply, rendered as a conversation, fit in the model's block?"""
    from ..skills.chat_format import render

    if block_size is None:
        raise OmakaseError("give block_size with bpe: the prompts kept are those that fit the model's block")
    return len(render(conversation(prompt.text, prompt.reference), bpe).ids) <= block_size


def _bills(world: World, seed: int, n: int, held_out: bool) -> list[Bill]:
    """n bills, or as many as a small world's side of the split holds (halving n until it fits)."""
    while True:
        try:
            return bill_questions(world, seed, n, held_out=held_out)
        except OmakaseError:
            if n <= 1:
                raise
            n //= 2


def _is_money(q: labelers.Question) -> bool:
    return q.fact_id is not None and (q.fact_id.startswith("price:") or q.fact_id in {f"rule:{t}" for t in MONEY_RULES})


def _smalltalk_held_out(user: str, seed: int) -> bool:
    key = f"{seed}|{' '.join(user.split()).casefold()}"
    return zlib.crc32(key.encode("utf-8")) % 1000 < SMALLTALK_HELD_OUT_SHARE * 1000


# -- the pairs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pair:
    prompt: Prompt
    chosen: str  # the better-scored reply (its content: tool calls and results included, when it made any)
    rejected: str
    chosen_score: int
    rejected_score: int


@dataclass
class Pairs:
    pairs: list[Pair]
    prompts: int  # prompts sampled
    ties: int  # prompts whose answers all scored the same: no pair, dropped
    replies: int  # answers drawn in all
    mean_score: float  # of every drawn answer: how good the SFT model's answers are, by the rubric
    scored: list[tuple[Prompt, list[tuple[int, str]]]] = field(default_factory=list, repr=False)  # each prompt's (score, content)s

    def every_pair(self) -> list[Pair]:
        """Every two answers to one prompt that scored differently, the better one chosen.

        Best against worst is the clearest comparison a prompt's answers hold, the one the held-out
        pairs measure; a reward model can learn from the rest too, at no extra sampling: InstructGPT's
        labelers ranked K answers, and its reward model trained on all K-choose-2 comparisons. Four
        answers give up to six pairs (the same two contents drawn twice count once)."""
        out = []
        for prompt, answers in self.scored:
            seen = set()
            for a, b in combinations(answers, 2):
                if a[0] == b[0]:
                    continue
                (high, chosen), (low, rejected) = (a, b) if a[0] > b[0] else (b, a)
                if (chosen, rejected) not in seen:
                    seen.add((chosen, rejected))
                    out.append(Pair(prompt, chosen, rejected, high, low))
        return out

    def to_dict(self) -> dict:
        kinds: dict[str, int] = {}
        for p in self.pairs:
            kinds[p.prompt.kind] = kinds.get(p.prompt.kind, 0) + 1
        return {"pairs": len(self.pairs), "prompts": self.prompts, "ties": self.ties, "replies": self.replies,
                "mean_score": self.mean_score, "by_kind": kinds}


def answer(model, bpe, question: str, max_new: int = 48, temperature: float = 0.0, top_k: int = 0, seed: int = 0,
           tools=None) -> tuple[str, str]:
    """The model's answer to one question, through the tool orchestrator: (content, what the guest reads).

    `content` is the assistant message as SFT data spells it, tool calls and their results included
    (tools.render_with_tools trains on the calls, not the results); `tools` maps "calc"/"search" to
    callables (None: every call is refused). A malformed call (a closer without its opener, a call cut
    off by the length limit) cannot be rendered: the content is then what the guest reads."""
    from ..skills.tools import as_written, reply_with_tools

    said = reply_with_tools(model, bpe, [{"role": "user", "content": question}], tools, max_new, temperature, top_k,
                            seed)
    return as_written(said, bpe), said.text


def guest_text(content: str) -> str:
    """An assistant message without its tool calls and their results: what the guest reads, what the rubric judges."""
    return CALL.sub("", content)


def first_of_each_kind(prompts: list[Prompt], n: int) -> list[Prompt]:
    """The first n prompts of each kind, kind after kind (KINDS' order): a smaller set drawn from a larger one."""
    return [p for kind in KINDS for p in [q for q in prompts if q.kind == kind][:n]]


def sample_pairs(model, bpe, prompts: list[Prompt], samples: int = 4, temperature: float = 1.0, seed: int = 0,
                 max_new: int = 48, top_k: int = 0, tools=None, progress=None) -> Pairs:
    """The SFT model answers each prompt `samples` times; its best- and worst-scored answers make a pair.

    Best against worst (the first drawn among equals) gives one pair per prompt, the clearest
    comparison the samples hold; when every answer scores the same the prompt is a tie and is
    dropped. Answers are drawn at `temperature` > 0: greedy answers would all be the same.
    A pair keeps each answer's content (its tool calls too, see `answer`); the rubric judged what the guest reads.
    progress(done, total), when given, is told after each prompt (thousands of them take minutes)."""
    if samples < 2:
        raise OmakaseError(f"a pair needs at least 2 samples per prompt, got {samples}")
    if temperature <= 0:
        raise OmakaseError(f"sampling pairs needs temperature > 0 (answers must differ), got {temperature}")
    pairs, ties, scores, by_prompt = [], 0, [], []
    for i, p in enumerate(prompts):
        drawn = [answer(model, bpe, p.text, max_new, temperature, top_k, seed + i * samples + s, tools)
                 for s in range(samples)]
        scored = [(score(p, seen), content) for content, seen in drawn]
        scores += [s for s, _ in scored]
        by_prompt.append((p, scored))
        best = max(scored, key=lambda st: st[0])
        worst = min(scored, key=lambda st: st[0])
        if best[0] == worst[0]:
            ties += 1
        else:
            pairs.append(Pair(p, best[1], worst[1], best[0], worst[0]))
        if progress:
            progress(i + 1, len(prompts))
    return Pairs(pairs, len(prompts), ties, len(scores), sum(scores) / len(scores) if scores else float("nan"), by_prompt)


def shorter_is_chosen(pairs: list[Pair]):
    """The share of pairs whose chosen reply is the shorter one (in words; equal lengths count as no).

    The baseline a reward model's pair accuracy must beat to have learned more than "shorter is better"."""
    from ..measure.evaluate import Rate

    return Rate.of([len(p.chosen.split()) < len(p.rejected.split()) for p in pairs])


def conversation(question: str, reply: str) -> list[dict]:
    """A one-turn conversation: the user's question and the assistant's reply."""
    return [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]


def pair_data(pairs: list[Pair], bpe, block_size: int, guest_only: bool = False):
    """The chosen and the rejected replies, each rendered after its prompt: two sft.Examples (padded token
    ids, targets that are IGNORE outside the reply's own tokens and its <|end|>, lengths), row i of each
    from pair i. guest_only: the replies without their tool calls (what a reward function is given)."""
    from .sft import examples

    if not pairs:
        raise OmakaseError("there are no pairs; sample some with preference.sample_pairs (a tie gives none)")
    shown = guest_text if guest_only else (lambda content: content)
    return (examples([conversation(p.prompt.text, shown(p.chosen)) for p in pairs], bpe, block_size),
            examples([conversation(p.prompt.text, shown(p.rejected)) for p in pairs], bpe, block_size))


def rubric_reward(prompts: list[Prompt]):
    """The rubric as a reward function (question text, reply text) -> score, for an RL loop (rl.py):
    beside the reward model's score it shows whether optimizing the learned critic also pleases the written one."""
    by_text = {p.text: p for p in prompts}

    def reward(question, reply_text: str) -> float:
        text = getattr(question, "text", question)
        if text not in by_text:
            raise OmakaseError(f"the rubric has no prompt {text[:60]!r}; build rubric_reward from the prompts the RL loop asks")
        return float(score(by_text[text], reply_text))

    return reward
