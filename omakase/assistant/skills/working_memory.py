"""Knowledge vs working memory: what the weights remember, what the prompt holds, and learning from the prompt.

The notes: knowledge in the parameters is a vague recollection (of something read
a month ago); knowledge in the tokens of the context window is working memory,
read directly. So paste the chapter into the prompt rather than ask the model to
remember it. Four measurements make the claim a number:

  cards        the same held-out questions asked bare, and with the subject's fact
               card pasted in front of the question ("The smoked yuzu eel bowl costs
               $14. It is served as a main. ..."): accuracy both ways, by how often
               the fact was read in pretraining.
  conflicts    the card holds a changed value ("The smoked yuzu eel bowl costs $37."
               while the weights read $14 everywhere): the share of replies that give
               the prompt's value, the weights' value, both, or neither.
  reading      the same with invented dishes, in no document: only the card can answer.
  in context   a transformation trained nowhere (the kitchen code: the price, then
               the dish's words back to front: "the smoked yuzu eel bowl, $14" ->
               "14 bowl eel yuzu smoked"), with k = 0, 1, 2, 4 worked examples before
               the query: accuracy against k (Brown et al.'s few-shot curve).

Where the card goes: at the start of the user's message, as a guest pastes a text
into the box. The system message already has one job in the SFT data (it names the
assistant), and working memory is whatever is in the context window, whoever put
it there; the user turn is where ChatGPT users paste things.

What the card SFT teaches (`card_conversations`): reading from the prompt, and only
with cards that hold the truth. Half of the cards are about training-split subjects
(the card agrees with the weights), half about invented dishes that are in no
document (the weights know nothing: the answer can only be read off the card, so
ignoring the card is never rewarded). No training card contradicts the world
(`changed_share`=0 by default). The consequence: the conflict measurement is what
the model does on its own when prompt and weights disagree, a disposition it was
never taught; a high "prompt" share says that "read the card" generalised to
cards that contradict what it read a hundred times. Pass changed_share > 0 to
train "the prompt wins" on purpose; then the conflict share measures that teaching.
Held-out and probe subjects never get a card in SFT.

Token budgets (measured with `longest_prompts` on seed 0's worlds): at BPE 2048 a dish name is
4 tokens and the longest held-out question with its full card and reply 78 tokens (83 with the
cpu build's tokenizer, which also read Shakespeare), inside the cpu preset's 128; at BPE 512 (quick) a dish name is
about 10 tokens (up to 15), so cards drop facts (never the asked one) until the conversation fits
96 tokens, and `card_questions` leaves out the few questions (5 of 53) where even one fact does
not fit. In-context examples are earlier turns of the conversation (user: the
dish, assistant: its code), the way few-shot prompts are given to a chat model:
they show exactly what the assistant's own turn holds and where it ends (<|end|>),
which one user message listing examples would leave the model to infer. They
cost 4 special tokens each; at BPE 2048 the longest k = 4 prompt with its code is 106
tokens (116 with Shakespeare in the tokenizer's text: fits 128); at BPE 512 one example costs about 43, so the quick preset stops at k = 1
(`largest_k` says where, `in_context` leaves out the k that do not fit).
Every token of a code is a token of its prompt ("47", " broth", " salmon"...), so
the task is copying in a new order, not spelling, which a tiny model cannot do.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

from ...errors import OmakaseError
from ...significance import paired_randomization
from ..measure import evaluate
from ..data import labelers
from .chat_format import render
from ..data.documents import RULE_SAY
from .reply import reply
from ..data.world import (COOK_ROLES, COURSES, FLAVOURS, FORMS, FRONT_ROLES, INGREDIENTS, METHODS,
                    OPENS, CLOSES, RULES, SPECIALTIES, STARS, TOWNS, Dish, Fact, World, dish_facts, states)

KS = (0, 1, 2, 4)  # worked examples before the query
CODE_MAX_NEW = 16  # a code is the price and four words; a reply may take this many tokens
INVENTED_SHARE = 0.5  # of the card conversations: about invented dishes (only the card can answer)
# The card's sentences, in the documents' own phrasings (documents.SAY): {D} is the dish's name in
# the first sentence and "It"/"They" after, so a card names its dish once (a name is 4-15 tokens).
DISH_CARD = {"price": "{D} cost{s} ${v}.", "course": "{D} {is_} served as a {v}.", "origin": "{D} come{s} from {v}.",
             "chef": "{D} {is_} cooked by {v}.", "ingredients": "{D} {is_} made with {v}."}
STAFF_CARD = {"role": "{n} is the {v}.", "years": "{n} has been with us for {v}.",
              "specialty": "{n}'s specialty is {v}."}


# -- fact cards --------------------------------------------------------------------------------

def subject_facts(world: World, subject: str, facts: list[Fact] | None = None) -> list[Fact]:
    """Every fact the world states about a subject (a dish, a staff member, a day, a rule's topic), in card order.
    `facts`: where to look (default: the world's facts and its unseen dishes'; pass them when asking many times)."""
    facts = [f for f in (facts if facts is not None else all_facts(world)) if f.subject == subject]
    if not facts:
        raise OmakaseError(f"{subject!r} is not a dish, staff member, day or house rule of this world; "
                           "ask about a subject from world.facts()")
    return facts


def card_text(facts: list[Fact]) -> str:
    """The card: one sentence per fact, as the restaurant's documents would state it."""
    out, named = [], False
    for f in facts:
        if f.attribute in DISH_CARD:
            plural = f.subject.endswith("s")  # "skewers", "dumplings"
            value = _listed(f.value.split(", ")) if f.attribute == "ingredients" else f.value
            subject = f"The {f.subject}" if not named else ("They" if plural else "It")
            named = True
            out.append(DISH_CARD[f.attribute].format(D=subject, v=value, s="" if plural else "s",
                                                     is_="are" if plural else "is"))
        elif f.attribute in STAFF_CARD:
            value = ("1 year" if f.value == "1" else f"{f.value} years") if f.attribute == "years" else f.value
            out.append(STAFF_CARD[f.attribute].format(n=f.subject, v=value))
        elif f.attribute == "hours":
            out.append(f"On {f.subject} we are closed." if f.value == "closed" else f"On {f.subject} we are open {f.value}.")
        elif f.attribute == "rule":
            out.append(RULE_SAY[f.subject][0].format(v=f.value))
        else:
            raise OmakaseError(f"no card sentence for the attribute {f.attribute!r} (fact {f.id})")
    return " ".join(out)


def card_prompt(question, world: World, bpe=None, block_size: int | None = None, value: str | None = None,
                facts: list[Fact] | None = None) -> str:
    """The user's message: the card of the question's subject, then the question.

    `value` replaces the asked fact's value on the card (a conflict, or a changed training card).
    With a tokenizer and a block size, the card drops facts other than the asked one (from its
    end) until the prompt and the reference reply fit the block. `facts`: where the question's
    facts are (default all_facts(world); an invented dish's own)."""
    text = _fitted_card_prompt(question, world, bpe, block_size, value, facts)
    if text is None:
        raise OmakaseError(f"the question {question.id!r} with a one-fact card is longer than the block's "
                           f"{block_size} tokens; use a model with a bigger block_size")
    return text


def card_questions(questions: list, world: World, bpe, block_size: int, seed: int = 0) -> list:
    """The questions whose card, true and changed (`conflict_value`), fits the block with at least the
    asked fact's sentence and the reference reply: measure both ways on this one list (the quick
    preset's 96 tokens at BPE 512 leave out a few long dish questions; the cpu preset's 128 none)."""
    facts = all_facts(world)
    return [q for q in questions if _fitted_card_prompt(q, world, bpe, block_size, None, facts) is not None
            and _fitted_card_prompt(q, world, bpe, block_size, conflict_value(q, world, seed, facts), facts) is not None]


def _fitted_card_prompt(question, world, bpe, block_size, value, facts) -> str | None:
    facts = facts if facts is not None else all_facts(world)
    asked = _fact_of(question, world, facts)
    card = [replace(f, value=value) if value is not None and f.id == asked.id else f
            for f in subject_facts(world, asked.subject, facts)]
    while True:
        text = f"{card_text(card)}\n{question.text}"
        if bpe is None or block_size is None:
            return text
        need = len(render([{"role": "user", "content": text}], bpe, reply=True).ids) + len(bpe.encode(question.reply)) + 1
        if need <= block_size:
            return text
        others = [f for f in card if f.id != asked.id]
        if not others:
            return None
        card.remove(others[-1])


def conflict_value(question, world: World, seed: int = 0, facts: list[Fact] | None = None) -> str:
    """The changed value the conflict measurement puts on the question's card (seeded per fact)."""
    fact = _fact_of(question, world, facts)
    return changed_value(fact, world, random.Random(f"{seed}:{fact.id}"))


def changed_value(fact: Fact, world: World, rng: random.Random) -> str:
    """A value the fact could have had but has not: drawn from the same kind of values
    (another price, town, cook, ...), never one that states the true value or is stated by it."""
    cooks = sorted({s.name for s in world.staff if s.role not in FRONT_ROLES})
    pools = {"price": lambda: str(rng.randint(4, 60)), "course": lambda: rng.choice(COURSES),
             "origin": lambda: rng.choice(TOWNS), "chef": lambda: rng.choice(cooks),
             "ingredients": lambda: ", ".join(rng.sample([i for i in INGREDIENTS if i not in fact.value.split(", ")],
                                                         len(fact.value.split(", ")))),
             "role": lambda: rng.choice(COOK_ROLES + FRONT_ROLES), "years": lambda: str(rng.randint(1, 40)),
             "specialty": lambda: rng.choice(SPECIALTIES),
             "hours": lambda: rng.choice(["closed"] + [f"{o} to {c}" for o in OPENS for c in CLOSES]),
             "rule": lambda: str(rng.choice(RULES[fact.subject]))}
    if fact.attribute not in pools:
        raise OmakaseError(f"no changed value for the attribute {fact.attribute!r} (fact {fact.id})")
    for _ in range(200):
        value = pools[fact.attribute]()
        if not states(value, fact.value) and not states(fact.value, value):
            return value
    raise OmakaseError(f"found no value for {fact.id} that differs from {fact.value!r}; the world's pool is too small")


# -- SFT: reading from the prompt --------------------------------------------------------------

def invented_dishes(world: World, n: int, seed: int | str = 0) -> list[Dish]:
    """n dishes in no document and not in the world (not even its unseen ones), with facts drawn like the world's."""
    taken = {d.name for d in world.dishes + world.unseen}
    room = len(METHODS) * len(FLAVOURS) * len(STARS) * len(FORMS) - len(taken)
    if not 0 <= n <= room // 2:  # keep drawing quick: at most half the names left
        raise OmakaseError(f"asked for {n} invented dishes; between 0 and {room // 2} can be named")
    rng = random.Random(seed)
    cooks = sorted({s.name for s in world.staff if s.role not in FRONT_ROLES})
    out: list[Dish] = []
    while len(out) < n:
        name = " ".join(rng.choice(part) for part in (METHODS, FLAVOURS, STARS, FORMS))
        if name in taken:
            continue
        taken.add(name)
        out.append(Dish(name, tuple(rng.sample(INGREDIENTS, rng.randint(2, 4))), rng.randint(4, 60), rng.choice(COURSES),
                        rng.choice(TOWNS), rng.choice(cooks), 0))
    return out


MEASURED_DISHES = 1000  # the first invented_dishes of a seed, which card_conversations and `reading` draw from


def practice_dishes(world: World, n: int, seed: int = 0) -> list[Dish]:
    """n invented dishes for mid-training, drawn like invented_dishes but from their own stream and never one
    of the first MEASURED_DISHES of invented_dishes(world, ..., seed) (SFT's cards and `reading`'s)."""
    measured = {d.name for d in invented_dishes(world, MEASURED_DISHES, seed)}
    drawn = invented_dishes(world, n + MEASURED_DISHES, f"practice|{seed}")
    return [d for d in drawn if d.name not in measured][:n]


def dish_sentences(dish: Dish) -> list[str]:
    """The dish's facts, one sentence each, every one naming the dish (as a document would: a search finds it)."""
    return [card_text([f]) for f in dish_facts(dish)]


def card_conversations(world: World, bpe, block_size: int, seed: int = 0, n: int = 400,
                       invented_share: float = INVENTED_SHARE, changed_share: float = 0.0) -> dict:
    """SFT conversations that answer from a card in the user's message: {"train": conversations,
    "kinds": "true", "invented" or "changed" per conversation, "questions": the labelers.Question each
    answers (its `answer` is the card's value), "counts", "too_long": drawn but left out,
    as even a one-fact card would not fit the block}. True cards are about the
    training split's subjects (labelers.fact_questions(world, seed).train); `changed_share` of those
    hold another value and the reply follows the card (0 by default: see the module docstring)."""
    if not (0.0 <= invented_share <= 1.0 and 0.0 <= changed_share <= 1.0) or n < 0:
        raise OmakaseError(f"invented_share ({invented_share}) and changed_share ({changed_share}) must be in [0, 1] "
                           f"and n ({n}) at least 0")
    rng = random.Random(seed)
    taught = labelers.fact_questions(world, seed).train
    facts = all_facts(world)
    n_invented = round(n * invented_share)
    items: list[tuple[str, str | None, object]] = []  # (kind, user message or None when too long, question)
    for dish in invented_dishes(world, n_invented, seed):
        own = dish_facts(dish)
        q = labelers.question(rng.choice(own), world, rng, "invented")
        items.append(("invented", _fitted_card_prompt(q, world, bpe, block_size, None, own), q))
    for q in (rng.choice(taught) for _ in range(n - n_invented)) if taught else ():
        if rng.random() < changed_share:
            fact = _fact_of(q, world, facts)
            q = labelers.question(replace(fact, value=changed_value(fact, world, rng)), world, rng, "changed")
            items.append(("changed", _fitted_card_prompt(q, world, bpe, block_size, q.answer, facts), q))
        else:
            items.append(("true", _fitted_card_prompt(q, world, bpe, block_size, None, facts), q))
    too_long = sum(u is None for _, u, _ in items)
    items = [item for item in items if item[1] is not None]
    rng.shuffle(items)
    conversations = [[{"role": "user", "content": u}, {"role": "assistant", "content": q.reply}] for _, u, q in items]
    kinds = [k for k, _, _ in items]
    return {"train": conversations, "kinds": kinds, "questions": [q for _, _, q in items],
            "counts": {k: kinds.count(k) for k in sorted(set(kinds))}, "too_long": too_long}


# -- measurements: the card, and a card that disagrees with the weights ------------------------

def with_and_without_card(model, bpe, world: World, questions: list, seen: dict[str, int]) -> dict:
    """Accuracy on the questions (card_questions of the held-out set) asked bare and with their card:
    {"without", "with": evaluate.knowledge's {"all": Rate, "by_seen": {group: Rate}, "right": [bool]},
    "gain": {"difference": with minus without, "p_value": paired randomization test, "n"},
    "example": one card with both replies}."""
    block, facts = model.config.block_size, all_facts(world)
    prompts = [card_prompt(q, world, bpe, block, facts=facts) for q in questions]
    bare = evaluate.ask(model, bpe, [q.text for q in questions])
    carded = evaluate.ask(model, bpe, prompts)
    out = {"without": evaluate.knowledge(questions, bare, seen), "with": evaluate.knowledge(questions, carded, seen)}
    # the same questions both ways: a paired test says more than two overlapping intervals
    gain, p = paired_randomization([float(x) for x in out["with"]["right"]], [float(x) for x in out["without"]["right"]])
    out["gain"] = {"difference": gain, "p_value": p, "n": len(questions)}
    if questions:
        out["example"] = {"card": prompts[0], "with": carded[0].reply, "without": bare[0].reply,
                          "answer": questions[0].answer}
    return out


def reading(model, bpe, world: World, n: int = 200, seed: int = 0, skip: int = round(400 * INVENTED_SHARE)) -> dict:
    """Pure working memory: questions about invented dishes (in no document, so the weights cannot
    help) asked with their card: {"all": Rate, "by_attribute": {attribute: Rate}, "example"}. The
    dishes follow the first `skip` of invented_dishes(world, ..., seed), the ones card_conversations
    with the same seed trains on (it draws round(n * invented_share)), so none of them is measured."""
    items = reading_prompts(world, n, seed, skip, bpe, model.config.block_size)
    said = [reply(model, bpe, [{"role": "user", "content": prompt}], evaluate.MAX_NEW).text for _, prompt in items]
    return reading_results(items, said)


def reading_prompts(world: World, n: int = 200, seed: int = 0, skip: int = round(400 * INVENTED_SHARE),
                    bpe=None, block_size: int | None = None) -> list[tuple]:
    """What `reading` asks: (question, the user's message: the card, then the question) about the invented
    dishes after the first `skip`. With a tokenizer and a block, each card is fitted to the block and a
    question even a one-fact card does not fit is left out; without them, every card is whole."""
    if n < 1 or skip < 0:
        raise OmakaseError(f"reading needs n >= 1 questions and skip >= 0, got n={n}, skip={skip}")
    rng = random.Random(f"reading:{seed}")
    items = []
    for dish in invented_dishes(world, skip + n, seed)[skip:]:
        own = dish_facts(dish)
        q = labelers.question(rng.choice(own), world, rng, "reading")
        prompt = _fitted_card_prompt(q, world, bpe, block_size, None, own)
        if prompt is not None:
            items.append((q, prompt))
    return items


def reading_results(items: list[tuple], replies: list[str]) -> dict:
    """Replies to reading_prompts' items, checked: the card's value stated in the reply."""
    if len(items) != len(replies):
        raise OmakaseError(f"{len(items)} questions but {len(replies)} replies; give one reply per question")
    right = [states(q.answer, said) for (q, _), said in zip(items, replies)]
    attributes = [q.fact_id.split(":", 1)[0] for q, _ in items]
    by = {a: evaluate.Rate.of([r for r, b in zip(right, attributes) if b == a]) for a in sorted(set(attributes))}
    example = {"card": items[0][1], "reply": replies[0], "answer": items[0][0].answer} if items else None
    return {"all": evaluate.Rate.of(right), "by_attribute": by, "example": example}


def conflicts(model, bpe, world: World, questions: list, seen: dict[str, int], seed: int = 0,
              known: list[bool] | None = None) -> dict:
    """Each question with a card whose asked fact is changed (`conflict_value`): the shares of replies
    giving the prompt's value only, the weights' (world's) value only, both, or neither, overall and
    by how often the fact was read in pretraining; with `known` (the "right" list of
    with_and_without_card's "without"), also among the questions the model answers right bare."""
    block, facts = model.config.block_size, all_facts(world)
    changed = [conflict_value(q, world, seed, facts) for q in questions]
    prompts = [card_prompt(q, world, bpe, block, value=v, facts=facts) for q, v in zip(questions, changed)]
    answers = evaluate.ask(model, bpe, prompts)
    follows = [_follows(v, q.answer, a.reply) for q, v, a in zip(questions, changed, answers)]
    groups = [evaluate.seen_group(seen.get(q.fact_id, 0)) for q in questions]
    out = _shares(follows)
    out["by_seen"] = {g: _shares([f for f, h in zip(follows, groups) if h == g]) for g in sorted(set(groups))}
    if known is not None:
        if len(known) != len(questions):
            raise OmakaseError(f"known has {len(known)} entries for {len(questions)} questions; pass the "
                               "\"right\" list measured on the same questions")
        out["when_known"] = _shares([f for f, k in zip(follows, known) if k])
    if questions:
        out["example"] = {"card": prompts[0], "reply": answers[0].reply, "prompt_value": changed[0],
                          "world_value": questions[0].answer}
    return out


def _follows(prompt_value: str, world_value: str, said: str) -> str:
    p, w = states(prompt_value, said), states(world_value, said)
    return "both" if p and w else "prompt" if p else "weights" if w else "neither"


def _shares(follows: list[str]) -> dict:
    return {k: evaluate.Rate.of([f == k for f in follows]) for k in ("prompt", "weights", "both", "neither")}


# -- in-context learning: the kitchen code -----------------------------------------------------

def kitchen_code(name: str, price: int) -> str:
    """The price, then the dish's words back to front: ("smoked yuzu eel bowl", 14) -> "14 bowl eel yuzu smoked"."""
    words = name.split()
    if not words:
        raise OmakaseError("a kitchen code needs a dish name; got an empty one")
    return family_code(name, price, back_to_front(len(words)), price_first=True)


def back_to_front(n_words: int) -> tuple[int, ...]:
    """The kitchen code's word order: the last word first."""
    return tuple(range(n_words))[::-1]


# The kitchen code's family (mid-training's `codes` skill): the price first or last, the name's four words in
# any order. A model learns to read a pattern off worked examples from text full of patterns that change from
# one document to the next (a large model from its internet; Chan et al. 2022: "bursty" data); ours reads no
# such text, so mid-training shows it few-shot conversations in the family's codes -- every one but the
# kitchen code's word order (back to front, the price first or last), which is trained nowhere: at k = 0 a
# model cannot know which code is asked, and a right kitchen code at k = 4 is read off the examples.
def family_code(name: str, price: int, order: tuple[int, ...], price_first: bool) -> str:
    """The name's words in `order` (indices into the name), the price first or last:
    ("smoked yuzu eel bowl", 14, (1, 0, 2, 3), False) -> "yuzu smoked eel bowl 14"."""
    words = name.split()
    if sorted(order) != list(range(len(words))):
        raise OmakaseError(f"a code's word order must use each of the {len(words)} words once, got {order}")
    said = [words[i] for i in order]
    return " ".join([str(price)] + said if price_first else said + [str(price)])


def sibling_codes(n_words: int = 4) -> list[tuple[tuple[int, ...], bool]]:
    """Every (word order, price first) of the family except the kitchen code's word order (back to front)."""
    return [(order, first) for order in itertools.permutations(range(n_words)) if order != back_to_front(n_words)
            for first in (True, False)]


def sibling_code_conversations(dishes: list[Dish], bpe, block_size: int, n: int, seed: int = 0) -> list[list[dict]]:
    """n few-shot conversations, each in one sibling code drawn at random: dishes asked one after another
    (code_request), every reply the dish's code, as many turns as fit the block (up to max(KS) + 1). Every
    reply is trained: the first has nothing to go on, each later one one more worked example."""
    if n < 0 or len(dishes) < max(KS) + 1:
        raise OmakaseError(f"code conversations need n >= 0 and at least {max(KS) + 1} dishes; got n={n}, "
                           f"{len(dishes)} dishes")
    rng, codes = random.Random(f"codes|{seed}"), sibling_codes()
    out = []
    for _ in range(n):
        order, price_first = rng.choice(codes)
        conversation: list[dict] = []
        for d in rng.sample(dishes, max(KS) + 1):
            turn = [{"role": "user", "content": code_request(d)},
                    {"role": "assistant", "content": family_code(d.name, d.price, order, price_first)}]
            if len(render(conversation + turn, bpe).ids) > block_size:
                break
            conversation += turn
        if conversation:
            out.append(conversation)
    return out


def code_request(dish: Dish) -> str:
    """The user's turn: the dish with its price (in the prompt: the task is working memory, not recall)."""
    return f"Code: the {dish.name}, ${dish.price}"


def code_conversation(examples: list[Dish], query: Dish) -> list[dict]:
    """The worked examples as earlier turns (user: a dish, assistant: its code), then the query."""
    out = []
    for d in examples:
        out += [{"role": "user", "content": code_request(d)}, {"role": "assistant", "content": kitchen_code(d.name, d.price)}]
    return out + [{"role": "user", "content": code_request(query)}]


def is_right_code(dish: Dish, said: str) -> bool:
    """Does the reply give the dish's code (whole words, in order, any case)?"""
    return states(kitchen_code(dish.name, dish.price), said)


def code_tasks(world: World, n: int, seed: int = 0, k: int = max(KS)) -> list[tuple[list[Dish], Dish]]:
    """n (examples, query) pairs over the world's dishes: k example dishes, none of them the query.
    The queries go round the dishes; every k uses the first k examples of the same draw, so the
    accuracies at different k are paired."""
    if n < 1 or k < 0:
        raise OmakaseError(f"code tasks need n >= 1 and k >= 0 examples, got n={n}, k={k}")
    if len(world.dishes) < k + 1:
        raise OmakaseError(f"the world has {len(world.dishes)} dishes; {k} examples and a query need {k + 1}")
    rng = random.Random(seed)
    order = rng.sample(world.dishes, len(world.dishes))
    tasks = []
    for i in range(n):
        query = order[i % len(order)]
        tasks.append((rng.sample([d for d in world.dishes if d is not query], k), query))
    return tasks


def code_task_length(bpe, examples: list[Dish], query: Dish) -> int:
    """Tokens of the rendered prompt plus the right code and its <|end|>: what must fit the block."""
    prompt = render(code_conversation(examples, query), bpe, reply=True).ids
    return len(prompt) + len(bpe.encode(kitchen_code(query.name, query.price))) + 1


def largest_k(bpe, block_size: int, tasks: list, ks=KS) -> int:
    """The largest k of `ks` whose every prompt (with its code) fits the block; -1 when even k=0 does not."""
    fitting = [k for k in ks if all(code_task_length(bpe, ex[:k], q) <= block_size for ex, q in tasks)]
    return max(fitting, default=-1)


def in_context(model, bpe, world: World, n: int = 200, ks=KS, seed: int = 0) -> dict:
    """Accuracy of the kitchen code against the number of worked examples: {"by_k": {k: Rate},
    "too_long": [k left out because their prompts do not fit the model's block], "example": ...}."""
    if not ks or any(not isinstance(k, int) or k < 0 for k in ks):
        raise OmakaseError(f"ks are numbers of worked examples (whole numbers >= 0), got {ks!r}")
    block = model.config.block_size
    tasks = code_tasks(world, n, seed, max(ks))
    cap = largest_k(bpe, block, tasks, ks)
    out: dict = {"by_k": {}, "too_long": [k for k in ks if k > cap]}
    for k in ks:
        if k > cap:
            continue
        right = []
        for i, (examples, query) in enumerate(tasks):
            said = reply(model, bpe, code_conversation(examples[:k], query), CODE_MAX_NEW, seed=seed + i)
            right.append(is_right_code(query, said.text))
            if i == 0:
                out.setdefault("examples", {})[k] = {"query": code_request(query), "reply": said.text,
                                                     "code": kitchen_code(query.name, query.price)}
        out["by_k"][k] = evaluate.Rate.of(right)
    return out


# -- what fits --------------------------------------------------------------------------------

def longest_prompts(bpe, world: World, seed: int = 0, n: int = 200) -> dict:
    """Measured token lengths (prompt + reference reply): the longest held-out question with its full card,
    bare, and the longest kitchen-code prompt at each k of KS (n tasks)."""
    held, facts = labelers.fact_questions(world, seed).held_out, all_facts(world)

    def length(text, answer):
        return len(render([{"role": "user", "content": text}], bpe, reply=True).ids) + len(bpe.encode(answer)) + 1

    tasks = code_tasks(world, n, seed)
    return {"card": max((length(card_prompt(q, world, facts=facts), q.reply) for q in held), default=0),
            "bare": max((length(q.text, q.reply) for q in held), default=0),
            "code": {k: max(code_task_length(bpe, ex[:k], q) for ex, q in tasks) for k in KS}}


def all_facts(world: World) -> list[Fact]:
    """The world's facts and its unseen dishes' (whose cards are true in the world, though no document states them)."""
    return world.facts() + world.unseen_facts()


def _fact_of(question, world: World, facts: list[Fact] | None = None) -> Fact:
    if getattr(question, "kind", None) != "fact" or not question.fact_id:
        raise OmakaseError(f"{getattr(question, 'id', question)!r} is not a fact question; cards answer "
                           "labelers.fact_questions(world).held_out")
    pool = facts if facts is not None else all_facts(world)
    for f in pool:
        if f.id == question.fact_id:
            return f
    raise OmakaseError(f"the fact {question.fact_id!r} is not in this world; make the questions from the same world")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
