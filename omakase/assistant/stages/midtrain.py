"""Mid-training: between the base model and SFT, thousands of generated conversations of every skill.

A base model has read documents, never a conversation, a tool call or a card in a user's
message. The SFT set is small and careful (a few hundred conversations per kind, written
to the labelers' guidelines); too small to teach a 2 M-parameter model new skills from
scratch. So, as nanochat does between its base and SFT stages, the base model first goes
on training on conversations that cost nothing to generate, thousands of each skill:

    tools       a bill with its prices shown, added up by the calculator: the call copies the
                counts and prices from the question, the orchestrator's result is masked out
                of the loss (tools.render_with_tools), the reply copies the result
    cards       an invented dish's card (working_memory's format, up to 5 facts), a question about
                one of them in the labelers' words, and their reply, which copies it from the card
    search      a question about an invented dish, looked up: the result is what BM25 finds among
                every such dish's sentences (the asked one among others), the reply copies it
    spelling    a letter count in a short word, spelled out first ("s t r=1 a w ...")
    comparisons "which is bigger, 9.11 or 9.9?", answered with one of the two numbers

Held out by item, like every measurement: the bills are the training side of bills.py's
split (no set of dishes a held-out bill has, no dish a held-out fact question asks about);
the words and the pairs of numbers are thinking.py's training side (a held-out word is
never spelled, a held-out pair never compared); the invented dishes are
working_memory.practice_dishes, never one that SFT's cards or the reading measurement
use. The loop and the loss are SFT's (sft.finetune): only the assistant's tokens are
trained (a tool's result is not).
"""

from __future__ import annotations

import random

from ...errors import OmakaseError
from ...plan import Plan
from ..data import labelers
from ..data.bills import bill_conversations, bill_questions
from ..data.world import dish_facts
from ..skills import thinking, working_memory
from ..skills.search import SEARCH_CHARS, search_tool
from ..skills.tools import SEARCH, search_answer
from .sft import finetune

SKILLS = ("tools", "cards", "search", "spelling", "comparisons")
VAL_SHARE = 0.05


def midtrain_conversations(world, bpe, block_size: int, seed: int = 0, per_skill: int = 3000,
                           search_chars: int = SEARCH_CHARS) -> dict:
    """Up to `per_skill` conversations of each skill that fit the block (fewer where the world holds
    fewer items), shuffled and split for a held-out loss:
    {"train", "val": conversations, "counts": {skill: conversations}}."""
    if per_skill < 1:
        raise OmakaseError(f"mid-training needs at least 1 conversation per skill, got {per_skill}")
    r = random.Random(f"midtrain|{seed}")
    drawn = bill_questions(world, seed, per_skill, or_fewer=True)
    bills = [b for b in drawn if thinking.length(bill_conversations([b])[0], bpe) <= block_size]
    if 2 * len(bills) < len(drawn):  # a small block: the bills asked with counts and prices only
        bills = [b for b in map(thinking.shortened, drawn) if thinking.length(bill_conversations([b])[0], bpe) <= block_size]
    carded, searched = (working_memory.practice_dishes(world, 2 * per_skill, seed)[i::2] for i in (0, 1))
    skills = {"tools": bill_conversations(bills[:per_skill]),
              "cards": _card_conversations(carded, world, bpe, block_size, r),
              "search": _search_conversations(searched, world, search_chars, r),
              "spelling": thinking.letter_conversations(thinking.letter_questions(world, seed, n=per_skill), "spelled"),
              "comparisons": thinking.comparison_conversations(thinking.comparison_questions(seed, per_skill), "direct")}
    items = [(skill, c) for skill, convs in skills.items() for c in convs
             if thinking.length(c, bpe) <= block_size]
    r.shuffle(items)
    n_val = round(len(items) * VAL_SHARE)
    counts = {skill: sum(k == skill for k, _ in items) for skill in SKILLS}
    return {"train": [c for _, c in items[n_val:]], "val": [c for _, c in items[:n_val]], "counts": counts}


def _card_conversations(dishes, world, bpe, block_size: int, r: random.Random) -> list[list[dict]]:
    """A question about each dish with its card in front (facts dropped from the card's end until it fits)."""
    out = []
    for dish in dishes:
        own = dish_facts(dish)
        q = labelers.question(r.choice(own), world, r, "midtrain")
        try:
            prompt = working_memory.card_prompt(q, world, bpe, block_size, facts=own)
        except OmakaseError:  # even a one-fact card is too long for this block
            continue
        out.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": q.reply}])
    return out


def _search_conversations(dishes, world, search_chars: int, r: random.Random) -> list[list[dict]]:
    """A question about each dish, searched for among every dish's sentences; answered where the result
    states the answer (as the labelers do: tools.search_answer)."""
    if not dishes:
        return []
    search = search_tool([s for d in dishes for s in working_memory.dish_sentences(d)], max_chars=search_chars)
    questions = [labelers.question(r.choice(dish_facts(d)), world, r, "midtrain") for d in dishes]
    answered = [(q, search_answer(q, search)) for q in questions]
    return [[{"role": "user", "content": q.text}, {"role": "assistant", "content": a}]
            for q, a in answered if a.startswith(SEARCH)]


def midtrain(model, bpe, world, plan: Plan, seed: int = 0, per_skill: int = 3000, search_chars: int = SEARCH_CHARS,
             progress=None) -> dict:
    """Train the model in place on the generated conversations; what trained it and how it went."""
    data = midtrain_conversations(world, bpe, model.config.block_size, seed, per_skill, search_chars)
    history, cut = finetune(model, bpe, data["train"], data["val"], plan, progress)
    return {"history": history.to_dict(), "plan": vars(plan), "counts": data["counts"], "cut": cut}
