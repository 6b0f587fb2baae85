"""Mid-training: between the base model and SFT, thousands of generated conversations of every skill.

A base model has read documents, never a conversation, a tool call or a card in a user's
message. The SFT set is small and careful (a few hundred conversations per kind, written
to the labelers' guidelines); too small to teach a 2 M-parameter model new skills from
scratch. So, as nanochat does between its base and SFT stages, the base model first goes
on training on conversations that cost nothing to generate, thousands of each skill:

    tools      a bill with its prices shown, added up by the calculator: the call copies the
               counts and prices from the question, the orchestrator's result is masked out
               of the loss (tools.render_with_tools), the reply copies the result
    cards      a card of 3 or 4 facts of an invented dish, a question about one of them, and
               the answer copied from the card (order_slips.card_reading)
    spelling   a letter count in a short word, spelled out first ("s t r=1 a w ...")

Held out by item, like every measurement: the bills are the training side of bills.py's
split (no set of dishes a held-out bill has, no dish a held-out fact question asks about);
the words are thinking.py's training words (a held-out word is never spelled); the cards'
dishes are named by three words, never the four-word invented dishes the working-memory
experiments measure. The loop and the loss are SFT's (sft.finetune): only the assistant's
tokens are trained.
"""

from __future__ import annotations

import random

from ...errors import OmakaseError
from ...plan import Plan
from ..data.bills import bill_conversations, bill_questions
from ..data.order_slips import card_reading
from ..skills import thinking
from .sft import finetune

SKILLS = ("tools", "cards", "spelling")
VAL_SHARE = 0.05


def midtrain_conversations(world, bpe, block_size: int, seed: int = 0, per_skill: int = 3000) -> dict:
    """Up to `per_skill` conversations of each skill that fit the block (fewer where the world holds
    fewer items: its training words, its training bills), shuffled and split for a held-out loss:
    {"train", "val": conversations, "counts": {skill: conversations}}."""
    if per_skill < 1:
        raise OmakaseError(f"mid-training needs at least 1 conversation per skill, got {per_skill}")
    r = random.Random(f"midtrain|{seed}")
    drawn = bill_questions(world, seed, per_skill, or_fewer=True)
    bills = [b for b in drawn if thinking.length(bill_conversations([b])[0], bpe) <= block_size]
    if 2 * len(bills) < len(drawn):  # a small block: the bills asked with counts and prices only
        bills = [b for b in map(thinking.shortened, drawn) if thinking.length(bill_conversations([b])[0], bpe) <= block_size]
    cooks = sorted(s.name for s in world.staff)
    cards = []
    for _ in range(3 * per_skill):  # in a small block only the shorter cards fit: draw until enough do
        dish, card, question, answer = card_reading(r, cooks)
        conversation = [{"role": "user", "content": f"Card: {card}\n\n{question}"},
                        {"role": "assistant", "content": answer}]
        if thinking.length(conversation, bpe) <= block_size:
            cards.append(conversation)
        if len(cards) == per_skill:
            break
    letters = thinking.letter_questions(world, seed, letters_per_word=8)
    skills = {"tools": bill_conversations(bills[:per_skill]),
              "cards": cards,
              "spelling": thinking.letter_conversations(letters[:per_skill], "spelled")}
    items = [(skill, c) for skill, convs in skills.items() for c in convs
             if thinking.length(c, bpe) <= block_size]
    r.shuffle(items)
    n_val = round(len(items) * VAL_SHARE)
    counts = {skill: sum(k == skill for k, _ in items) for skill in SKILLS}
    return {"train": [c for _, c in items[n_val:]], "val": [c for _, c in items[:n_val]], "counts": counts}


def midtrain(model, bpe, world, plan: Plan, seed: int = 0, per_skill: int = 3000, progress=None) -> dict:
    """Train the model in place on the generated conversations; what trained it and how it went."""
    data = midtrain_conversations(world, bpe, model.config.block_size, seed, per_skill)
    history, cut = finetune(model, bpe, data["train"], data["val"], plan, progress)
    return {"history": history.to_dict(), "plan": vars(plan), "counts": data["counts"], "cut": cut}
