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
                one of them in the labelers' words, and their reply, which copies it from the card;
                half of them ask for its list of ingredients, the hardest to copy (LIST_SHARE)
    search      a question looked up, the reply copying the result: up to half about invented dishes
                (the result is what BM25 finds among every such dish's sentences), the rest about the
                taught facts in new words, searched in the build's own library (its result as messy as
                a measured one: menu lines, reviews, other dishes' sentences)
    spelling    a letter count in a short word, spelled out first ("s t r=1 a w ...")
    comparisons "which is bigger, 9.11 or 9.9?", answered with one of the two numbers
    codes       few-shot conversations in the kitchen code's family (working_memory.family_code): dishes asked
                one after another, each reply the dish's code, a new code each conversation, so only the
                earlier turns say which; never the kitchen code's word order, which `in_context` measures
    recall      (only when asked for: `closed_book`, a pilot's lever) a taught fact asked in new words and
                answered from memory, as the labelers answer it. The base model goes on with a held-out fact
                in its documents' words far more often than SFT answers a question about it; 3,000 of these
                did not change that (docs/assistant.md, "Where the knowledge is")

Held out by item, like every measurement: the bills are the training side of bills.py's
split (no set of dishes a held-out bill has, no dish a held-out fact question asks about);
the searched facts are labelers.fact_questions' training side (no held-out or probed dish);
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

SKILLS = ("tools", "cards", "search", "spelling", "comparisons", "codes", "recall")
VAL_SHARE = 0.05
# the share of cards asked for their list of ingredients: at a uniform fifth, the mid-trained model of the
# 86ae800 cpu run copied a card's list 0% of the time (every other attribute 100%); 200 more steps at a half
# took it to 96% with the others 89-100% (docs/assistant.md, "Pilots")
LIST_SHARE = 0.5


def midtrain_conversations(world, bpe, block_size: int, seed: int = 0, per_skill: int = 3000,
                           search_chars: int = SEARCH_CHARS, library_search=None, closed_book: int = 0,
                           comparisons: int | None = None, codes: int | None = None) -> dict:
    """Up to `per_skill` conversations of each skill that fit the block (fewer where the world holds
    fewer items), shuffled and split for a held-out loss:
    {"train", "val": conversations, "counts": {skill: conversations}}.
    library_search: the build's search tool (search.search_tool over its library); without it, every
    search is about invented dishes. closed_book: how many "recall" conversations (0: none). comparisons:
    how many comparisons (None: per_skill): copying a number back is learned from more examples than the
    other skills need (the `comparisons` pilot). codes: how many few-shot code conversations (None: per_skill),
    about the invented dishes of the cards and searches (no dish of its own: a code's request states a price)."""
    if per_skill < 1:
        raise OmakaseError(f"mid-training needs at least 1 conversation per skill, got {per_skill}")
    for skill, n in (("comparison", comparisons), ("code conversation", codes)):
        if n is not None and n < 1:
            raise OmakaseError(f"mid-training needs at least 1 {skill}, got {n}")
    r = random.Random(f"midtrain|{seed}")
    drawn = bill_questions(world, seed, per_skill, or_fewer=True)
    bills = [b for b in drawn if thinking.length(bill_conversations([b])[0], bpe) <= block_size]
    if 2 * len(bills) < len(drawn):  # a small block: the bills asked with counts and prices only
        bills = [b for b in map(thinking.shortened, drawn) if thinking.length(bill_conversations([b])[0], bpe) <= block_size]
    invented = working_memory.practice_dishes(world, invented_dishes_drawn(per_skill), seed)
    carded, searched = invented[0::2], invented[1::2]
    if library_search is not None:
        searched = searched[:per_skill // 2]
    found = invented_search_conversations(searched, world, search_chars, r)
    if library_search is not None:
        found += library_search_conversations(world, seed, library_search, per_skill - len(found), r)
    skills = {"tools": bill_conversations(bills[:per_skill]),
              "cards": invented_card_conversations(carded, world, bpe, block_size, r),
              "search": found,
              "spelling": thinking.letter_conversations(thinking.letter_questions(world, seed, n=per_skill), "spelled"),
              "comparisons": thinking.comparison_conversations(
                  thinking.comparison_questions(seed, comparisons or per_skill), "direct"),
              "codes": working_memory.sibling_code_conversations(invented, bpe, block_size, codes or per_skill, seed),
              "recall": closed_book_conversations(world, seed, closed_book, r)}
    items = [(skill, c) for skill, convs in skills.items() for c in convs
             if thinking.length(c, bpe) <= block_size]
    r.shuffle(items)
    n_val = round(len(items) * VAL_SHARE)
    counts = {skill: sum(k == skill for k, _ in items) for skill in SKILLS}
    return {"train": [c for _, c in items[n_val:]], "val": [c for _, c in items[:n_val]], "counts": counts}


def invented_dishes_drawn(per_skill: int) -> int:
    """How many of working_memory.practice_dishes mid-training draws (half for cards, half for searches): SFT's
    invented dishes are drawn after them, so none is one mid-training taught."""
    return 2 * per_skill


def invented_card_conversations(dishes, world, bpe, block_size: int, r: random.Random) -> list[list[dict]]:
    """A question about each dish with its card in front (facts dropped from the card's end until it fits),
    LIST_SHARE of them asking for the list of ingredients."""
    out = []
    for dish in dishes:
        own = dish_facts(dish)
        listed = [f for f in own if f.attribute == "ingredients"]
        asked = listed[0] if listed and r.random() < LIST_SHARE else r.choice([f for f in own if f not in listed] or own)
        q = labelers.question(asked, world, r, "midtrain")
        try:
            prompt = working_memory.card_prompt(q, world, bpe, block_size, facts=own)
        except OmakaseError:  # even a one-fact card is too long for this block
            continue
        out.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": q.reply}])
    return out


def invented_search_conversations(dishes, world, search_chars: int, r: random.Random) -> list[list[dict]]:
    """A question about each dish, searched for among every dish's sentences; answered where the result
    states the answer (as the labelers do: tools.search_answer)."""
    if not dishes:
        return []
    search = search_tool([s for d in dishes for s in working_memory.dish_sentences(d)], max_chars=search_chars)
    questions = [labelers.question(r.choice(dish_facts(d)), world, r, "midtrain") for d in dishes]
    answered = [(q, search_answer(q, search)) for q in questions]
    return [[{"role": "user", "content": q.text}, {"role": "assistant", "content": a}]
            for q, a in answered if a.startswith(SEARCH)]


def closed_book_conversations(world, seed: int, n: int, r: random.Random) -> list[list[dict]]:
    """n questions about the taught facts (fact_questions' training side), in new words each round, with the
    labelers' reply: the value from memory, no tool."""
    facts = labelers.taught_facts(world, seed)
    out: list[list[dict]] = []
    while facts and len(out) < n:
        for f in r.sample(facts, len(facts))[:n - len(out)]:
            q = labelers.question(f, world, r, "midtrain")
            out.append([{"role": "user", "content": q.text}, {"role": "assistant", "content": q.reply}])
    return out


def library_search_conversations(world, seed: int, search, n: int, r: random.Random) -> list[list[dict]]:
    """Up to n questions about the taught facts (fact_questions' training side), in new words, each searched
    in the library and answered where the result states the answer (tools.search_answer)."""
    facts = labelers.taught_facts(world, seed)
    out: list[list[dict]] = []
    for _ in range(4):  # a few rounds of new wordings: a result that lacks the answer gives no conversation
        for f in r.sample(facts, len(facts)):
            if len(out) >= n:
                return out
            q = labelers.question(f, world, r, "midtrain")
            answer = search_answer(q, search)
            if answer.startswith(SEARCH):
                out.append([{"role": "user", "content": q.text}, {"role": "assistant", "content": answer}])
    return out


def midtrain(model, bpe, world, plan: Plan, seed: int = 0, per_skill: int = 3000, search_chars: int = SEARCH_CHARS,
             progress=None, library_search=None, closed_book: int = 0, comparisons: int | None = None,
             codes: int | None = None) -> dict:
    """Train the model in place on the generated conversations; what trained it and how it went."""
    data = midtrain_conversations(world, bpe, model.config.block_size, seed, per_skill, search_chars, library_search,
                                  closed_book, comparisons, codes)
    history, cut = finetune(model, bpe, data["train"], data["val"], plan, progress)
    return {"history": history.to_dict(), "plan": vars(plan), "counts": data["counts"], "cut": cut}
