"""Bill questions: "3 miso soups and 2 unagi bowls?", for teaching and measuring the calculator.

A language model adds by predicting digits, so a bill for several dishes is where
it slips. The labelers answer a bill two ways, and the SFT set takes one of them:

    no tools:        "That comes to $50."
    the calculator:  "<|calc|>3*12+2*7<|/calc|><|result|>50<|/result|>That comes to $50."

(the orchestrator, tools.py, writes the result; the model learns to write the call
and to copy the result into its answer). A bill shows its prices ("3 miso soups ($12 each)"),
so the call copies numbers from the context and a wrong total is arithmetic, not a
forgotten price. `show_prices=False` asks from memory instead: then the dishes come from
the best-known buckets (BILL_BUCKETS: prices stated in 10 and 30 documents).

Held out: the sets of dishes are split by a seeded hash, so no training bill has
the same set of dishes as a held-out one (a held-out bill is not a taught one
with other counts or in another order): a right total on it is computed, not recalled.
And by dish: a training bill never names a dish whose facts are held out (labelers.fact_questions'
held-out subjects), so no training bill tells a price that a held-out question asks.
"""

from __future__ import annotations

import functools
import itertools
import random
import zlib
from dataclasses import dataclass

from ...errors import OmakaseError
from ..skills.tools import call_text
from .world import BUCKETS, NUMBER, World

BILL_BUCKETS = (10, 30)
HELD_OUT_SHARE = 0.3  # of the combinations of dishes
DEFAULT_N = {False: 600, True: 200}  # bills per side when n is not given
MAX_COUNT = 3  # of one dish in a bill: small products, sized to a small model
ASK_BILL = ("How much are {items}?", "What do {items} cost?", "What is the bill for {items}?",
            "We had {items}. What do we owe?", "{items}: how much is that?", "How much do I pay for {items}?")
TOTAL = ("That comes to ${t}.", "That is ${t} in all.", "The bill is ${t}.", "Altogether that is ${t}.")


@dataclass(frozen=True)
class Bill:
    id: str
    text: str  # what the guest asks
    items: tuple[tuple[int, str, int], ...]  # (count, dish, price each), in the order asked
    total: int  # dollars
    expression: str  # "3*12+2*7": what the calculator is asked
    reply: str  # the labelers' answer without tools
    reply_with_calc: str  # the calculator call, its result, then the same answer

    @property
    def held_out_key(self) -> frozenset[str]:
        return frozenset(dish for _, dish, _ in self.items)


def is_held_out(dishes, seed: int = 0, share: float = HELD_OUT_SHARE) -> bool:
    """Which side a combination of dishes is on: a seeded hash, the same whatever the counts or order."""
    key = f"{seed}|" + "|".join(sorted(dishes))
    return zlib.crc32(key.encode("utf-8")) % 1000 < share * 1000


def bill_questions(world: World, seed: int = 0, n: int | None = None, held_out: bool = False,
                   buckets=None, show_prices: bool = True, share: float = HELD_OUT_SHARE,
                   or_fewer: bool = False) -> list[Bill]:
    """n distinct bills of 2 or 3 dishes (1 to MAX_COUNT of each) from one side of the split.

    n defaults to 600 for training and 200 held out (or all the world holds, if fewer); an n larger than
    the world holds is an error, unless `or_fewer` (then all it holds). buckets default to every bucket
    when the prices are shown, BILL_BUCKETS when they must be recalled."""
    if buckets is None:
        buckets = BUCKETS if show_prices else BILL_BUCKETS
    if not 0.0 < share < 1.0:
        raise OmakaseError(f"share must be between 0 and 1, got {share}")
    dishes = [d for d in world.dishes if d.bucket in buckets]
    if not held_out:
        measured = measured_dishes(world, seed)
        dishes = [d for d in dishes if d.name not in measured]
    if len(dishes) < 3:
        raise OmakaseError(f"the world has {len(dishes)} {'' if held_out else 'unmeasured '}dishes in buckets "
                           f"{tuple(buckets)}; bills need at least 3")
    possible = _possible(tuple(d.name for d in dishes), seed, share, held_out)
    if n is None or or_fewer:  # a small world holds fewer than the default
        n = min(DEFAULT_N[held_out] if n is None else n, possible)
    if n > possible:
        raise OmakaseError(f"this world has {possible} distinct {'held-out' if held_out else 'training'} bills; "
                           f"ask for fewer (n={n}) or use a bigger world")
    r = random.Random(f"bills|{seed}|{held_out}")
    bills: dict[tuple, Bill] = {}  # keyed by the items in any order: "2 A and 1 B" is "1 B and 2 A"
    while len(bills) < n:
        chosen = r.sample(dishes, 2 if r.random() < 0.7 else 3)
        if is_held_out([d.name for d in chosen], seed, share) != held_out:
            continue
        items = tuple((r.randint(1, MAX_COUNT), d.name, d.price) for d in chosen)
        key = tuple(sorted(items, key=lambda item: item[1]))
        if key not in bills:
            bills[key] = _bill(f"bill:{'held' if held_out else 'train'}:{len(bills)}", items, r, show_prices)
    return list(bills.values())


def measured_dishes(world: World, seed: int = 0) -> set[str]:
    """The dishes a held-out fact question asks about: training bills never name them."""
    from .labelers import fact_questions  # here: labelers is the bigger module, and bills need only this

    questions = fact_questions(world, seed)
    dishes = {d.name for d in world.dishes}
    return {q.fact_id.split(":", 1)[1] for q in questions.held_out} & dishes


@functools.lru_cache(maxsize=16)  # tens of thousands of combinations: counted once per world and side
def _possible(names: tuple[str, ...], seed: int, share: float, held_out: bool) -> int:
    """How many distinct bills one side of the split holds."""
    return sum(MAX_COUNT ** k for k in (2, 3) for combo in itertools.combinations(names, k)
               if is_held_out(combo, seed, share) == held_out)


def _bill(id: str, items: tuple, r: random.Random, show_prices: bool) -> Bill:
    said = [_dishes(count, dish) + (f" (${price}{' each' if count > 1 else ''})" if show_prices else "")
            for count, dish, price in items]
    listed = ", ".join(said[:-1]) + " and " + said[-1]
    text = r.choice(ASK_BILL).format(items=listed)
    total = sum(count * price for count, _, price in items)
    expression = "+".join(f"{count}*{price}" for count, _, price in items)
    answer = r.choice(TOTAL).format(t=total)
    return Bill(id, text[:1].upper() + text[1:], items, total, expression, answer,
                call_text("calc", expression, str(total)) + answer)


def _dishes(count: int, dish: str) -> str:
    return f"{count} {dish}" if count == 1 or dish.endswith("s") else f"{count} {dish}s"


def bill_conversations(bills: list[Bill], calculator: bool = True) -> list[list[dict]]:
    """One conversation per bill, answered with the calculator or without tools."""
    return [[{"role": "user", "content": b.text},
             {"role": "assistant", "content": b.reply_with_calc if calculator else b.reply}] for b in bills]


def is_right_total(bill: Bill, reply: str) -> bool:
    """Does the reply end on the right total? Its last number is the total (prices named before it are fine).

    Give the text a guest reads (SaidWithTools.text): the calculator's result is not the model's answer."""
    numbers = [m.group() for m in NUMBER.finditer(reply)]
    return bool(numbers) and float(numbers[-1].replace(",", "")) == bill.total
