"""Copy pressure: pretraining documents whose next tokens only the context can predict.

Every dish of the kitchen's internet is one of a fixed set of names, stated a known number
of times, so a model can predict all of it from its weights and never needs to read back
what it has just seen. Answering from a pasted card, or copying a bill's prices into a
calculator call, needs that reading (induction heads). These documents reward it:

    slip      an invented dish, a card of 3 or 4 of its facts, then 2 or 3 guest's questions
              about them, each with the server's answer, which copies the fact from the card:

                  Order slip. Today's special is the yuzu eel bowl. It costs $7. It is cooked
                  by Mei Sato. It comes from Dunmere.
                  Guest: Who cooks the yuzu eel bowl?
                  Server: The yuzu eel bowl is cooked by Mei Sato.
                  Guest: How much is the yuzu eel bowl?
                  Server: The yuzu eel bowl is $7.

    receipt   2 or 3 invented dishes with small counts and prices, then a total line that
              repeats every item and its price before the sum:

                  Receipt. 2 yuzu eel bowl at $7. 1 plum duck tart at $9.
                  Total for 2 yuzu eel bowl at $7 and 1 plum duck tart at $9: $23.

An invented dish is named by three words (flavour, star, form): the world's dishes have
four, so no slip ever states, or contradicts, a fact the knowledge experiments count,
and none is a dish the working-memory experiments measure. The facts are drawn fresh for
every slip, so the same name costs $7 in one slip and $31 in another: only the card
predicts the answer. The number of documents is the preset's (`Preset.order_slips`),
so the corpus grows with the model.
"""

from __future__ import annotations

import random

from ...errors import OmakaseError
from .documents import Document
from .world import FLAVOURS, FORMS, INGREDIENTS, STARS, TOWNS, World

RECEIPT_SHARE = 0.4  # of the documents: receipts; the rest are slips
MAX_PRICE = 30  # small prices: one or two digits
MAX_COUNT = 3
CARD = {"price": "{It} cost{s} ${v}.", "chef": "{It} {is_} cooked by {v}.", "origin": "{It} come{s} from {v}.",
        "ingredients": "{It} {is_} made with {v}."}
ASK = {"price": ("How much is the {d}?", "What does the {d} cost?"),
       "chef": ("Who cooks the {d}?", "Who makes the {d}?"),
       "origin": ("Where does the {d} come from?", "Which town is the {d} from?"),
       "ingredients": ("What is in the {d}?", "What is the {d} made with?")}
ANSWER = {"price": "The {d} {is_} ${v}.", "chef": "The {d} {is_} cooked by {v}.",
          "origin": "The {d} come{s} from {v}.", "ingredients": "The {d} {is_} made with {v}."}


def invented_name(r: random.Random) -> str:
    """Three words, never a dish of the world (whose names have four)."""
    return " ".join(r.choice(part) for part in (FLAVOURS, STARS, FORMS))


def order_slips(world: World, n: int, seed: int = 0, receipt_share: float = RECEIPT_SHARE) -> list[Document]:
    """n copy-pressure documents (slips and receipts, see the module docstring), seeded; they state no
    fact of the world (`facts` is empty)."""
    if n < 0 or not 0.0 <= receipt_share <= 1.0:
        raise OmakaseError(f"order slips need n >= 0 (got {n}) and receipt_share in [0, 1] (got {receipt_share})")
    r = random.Random(f"slips|{seed}")
    cooks = sorted(s.name for s in world.staff)
    out = []
    for i in range(n):
        if r.random() < receipt_share:
            out.append(Document(f"receipt-{i:05d}", "receipt", receipt(r), ()))
        else:
            out.append(Document(f"slip-{i:05d}", "slip", slip(r, cooks), ()))
    return out


def slip(r: random.Random, cooks: list[str]) -> str:
    dish, card, asked = _card(r, cooks)
    talk = "\n".join(f"Guest: {question}\nServer: {answer}" for question, answer in r.sample(asked, r.randint(2, 3)))
    return f"Order slip. Today's special is the {dish}. {card}\n{talk}"


def _card(r: random.Random, cooks: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    """(dish, its card, a (question, answer) for each fact on the card)."""
    dish = invented_name(r)
    plural = dish.endswith("s")
    values = {"price": str(r.randint(4, MAX_PRICE)), "chef": r.choice(cooks), "origin": r.choice(TOWNS),
              "ingredients": _listed(r.sample(INGREDIENTS, r.randint(2, 3)))}
    shown = r.sample(list(CARD), r.randint(3, 4))
    grammar = {"s": "" if plural else "s", "is_": "are" if plural else "is"}
    card = " ".join(CARD[a].format(It="They" if plural else "It", v=values[a], **grammar) for a in shown)
    asked = [(r.choice(ASK[a]).format(d=dish), ANSWER[a].format(d=dish, v=values[a], **grammar)) for a in shown]
    return dish, card, asked


def receipt(r: random.Random) -> str:
    items = [(r.randint(1, MAX_COUNT), invented_name(r), r.randint(2, MAX_PRICE)) for _ in range(r.randint(2, 3))]
    lines = [f"{count} {dish} at ${price}" for count, dish, price in items]
    total = sum(count * price for count, _, price in items)
    return f"Receipt. {'. '.join(lines)}.\nTotal for {_listed(lines)}: ${total}."


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
