"""Tokens to think: a model has a fixed amount of computation per token, so it should spread the work out.

The notes' "5 apples" example: a network runs the same few layers for every token it
writes, so an answer written before its working has to be computed inside the one
token that states it; the working written after it is a rationalisation. Written the
other way round, every token does a small step (one product, one sum) and the answer
at the end only copies the last step. Three measured versions of that claim:

  bills        the same held-out bills, taught two ways in SFT:
                 answer first  "That comes to $50. 3 x 12 = 36, 2 x 7 = 14, 36 + 14 = 50."
                 work first    "3 x 12 = 36. 2 x 7 = 14. 36 + 14 = 50. That comes to $50."
               accuracy of each, and accuracy against the tokens written before the answer.
  letters      "How many times does the letter r appear in the word strawberry?"
               (nanochat's SpellingBee; the strawberry problem: the letters hide inside BPE
               pieces), about short words: answered directly, spelled out first ("s t r=1 a w ...")
               or with the calculator's count(word, letter), which reads the letters.
  comparisons  "Which is bigger, 9.11 or 9.9?": jagged intelligence, by how the BPE cuts the
               two numbers (" 9" "." "11" against " 9" "." "9": the pieces compare like 11 > 9).

What "the answer" is (the checkers): the number the reply commits to. Answer-first commits
in its first sentence, before any working, so its answer is the first number it writes
(whatever the working after it says); work-first ends on it, so its answer is the last
number. A letter count is the reply's last number (the tallies come before it); a
comparison's answer is the number it picks: the first it names when it answers at once
("9.9 is bigger."), the last when it first writes both to two decimals ("9.11 vs 9.90: 11 < 90,
so 9.9 is bigger.": the `padded` style, tokens to think against the tokenizer).

Bills show their prices (bills.py show_prices=True): the claim is about arithmetic, and
with the prices in the question both variants read the same numbers, so a difference
between them is computation, not a forgotten price (work-first would also get to recall
each price in a token of its own, a second advantage that would muddle the first).

Every design must fit the block (128 tokens in the cpu preset, 96 in quick): `fitting`
keeps the questions whose every variant's conversation fits, so the variants are
compared on the same questions.
"""

from __future__ import annotations

import functools
import random
import re
import zlib
from dataclasses import dataclass, replace

from ... import data
from ...errors import OmakaseError
from ..data.bills import Bill
from .calculator import calculator_tool
from ..measure.evaluate import Rate, ask
from .tools import call_text, render_with_tools
from ..data.world import NUMBER, World

MAX_NEW = 96  # tokens a reply may take: spelled names and worked bills are long (the block stops it anyway)
TOKEN_BINS = (0, 8, 16, 32, 64)  # tokens before the answer, grouped on a doubling scale
HELD_OUT_SHARE = 0.3


# -- bills: answer first or work first -----------------------------------------------------------

BILL_STYLES = ("answer-first", "work-first")


def working(bill: Bill) -> list[str]:
    """The steps, one small computation each: every product, then a running sum two numbers at a time."""
    values = [count * price for count, _, price in bill.items]
    steps = [f"{count} x {price} = {count * price}" for count, _, price in bill.items]
    running = values[0]
    for v in values[1:]:
        steps.append(f"{running} + {v} = {running + v}")
        running += v
    return steps


def bill_reply(bill: Bill, style: str) -> str:
    """The labelers' reply in one style; both state the same total and the same steps."""
    steps = working(bill)
    if style == "answer-first":
        return f"{bill.reply} {', '.join(steps)}."
    if style == "work-first":
        return f"{'. '.join(steps)}. {bill.reply}"
    raise OmakaseError(f"unknown bill style {style!r}; choose one of: {', '.join(BILL_STYLES)}")


def shortened(bill: Bill) -> Bill:
    """The same bill asked with counts and prices only ("What do 3 at $12 and 2 at $7 come to?"): for a
    small block (the quick preset's 96 tokens and 512-piece BPE spell a dish name in a dozen pieces)."""
    said = [f"{count} at ${price}" for count, _, price in bill.items]
    return replace(bill, text=f"What do {', '.join(said[:-1])} and {said[-1]} come to?")


def bill_conversations(bills: list[Bill], style: str) -> list[list[dict]]:
    return [[{"role": "user", "content": b.text}, {"role": "assistant", "content": bill_reply(b, style)}]
            for b in bills]


def answer_at(reply: str, style: str) -> re.Match | None:
    """Where the committed answer is: the first number for answer-first, the last for work-first."""
    if style not in BILL_STYLES:
        raise OmakaseError(f"unknown bill style {style!r}; choose one of: {', '.join(BILL_STYLES)}")
    numbers = list(NUMBER.finditer(reply))
    if not numbers:
        return None
    return numbers[0] if style == "answer-first" else numbers[-1]


def committed_total(reply: str, style: str) -> float | None:
    """The total the reply commits to (None when it gives no number)."""
    m = answer_at(reply, style)
    return float(m.group().replace(",", "")) if m else None


def is_right_bill(bill: Bill, reply: str, style: str) -> bool:
    return committed_total(reply, style) == bill.total


def tokens_before_answer(reply: str, bpe, style: str) -> int | None:
    """Tokens the reply spends before its answer: the pieces that end before the answer's first character."""
    m = answer_at(reply, style)
    if m is None:
        return None
    start = len(reply[:m.start()].encode("utf-8"))
    ends, at = 0, 0
    for t in bpe.encode(reply):
        at += len(bpe.piece(t))
        if at > start:
            break
        ends += 1
    return ends


def token_bin(n: int) -> str:
    """The group of a token count: "0-7", "8-15", ..., "64+"."""
    i = max(i for i, low in enumerate(TOKEN_BINS) if low <= n)
    return f"{TOKEN_BINS[i]}+" if i == len(TOKEN_BINS) - 1 else f"{TOKEN_BINS[i]}-{TOKEN_BINS[i + 1] - 1}"


def bill_results(bills: list[Bill], replies: list[str], bpe, style: str) -> dict:
    """Accuracy of one style's replies: overall, by tokens before the answer, by dishes in the bill.

    For answer-first, `work_right` is whether the working after the answer ends on the
    right total: a model that computes right step by step but committed wrong in one token."""
    if len(bills) != len(replies):
        raise OmakaseError(f"{len(bills)} bills but {len(replies)} replies; give one reply per bill")
    right = [is_right_bill(b, r, style) for b, r in zip(bills, replies)]
    spent = [tokens_before_answer(r, bpe, style) for r in replies]
    bins = [token_bin(n) if n is not None else "no answer" for n in spent]
    out = {"all": Rate.of(right), "by_tokens": _grouped(right, bins),
           "by_items": _grouped(right, [len(b.items) for b in bills]),
           "tokens_before": spent, "right": right}
    if style == "answer-first":
        out["work_right"] = Rate.of([committed_total(r, "work-first") == b.total for b, r in zip(bills, replies)])
    return out


def pooled_by_tokens(results: dict[str, dict]) -> dict[str, Rate]:
    """Accuracy against tokens before the answer, every style's replies together ({style: bill_results})."""
    right = [x for r in results.values() for x in r["right"]]
    bins = [token_bin(n) if n is not None else "no answer" for r in results.values() for n in r["tokens_before"]]
    return _grouped(right, bins)


# -- letters: direct, spelled first, or with the calculator -------------------------------------

LETTER_STYLES = ("direct", "spelled", "calculator")
ASK_LETTER = ("How many times does the letter {l} appear in the word {word}?", "How many {l}'s are in {word}?",
              "Count the letter {l} in the word {word}.")
SPELLED_START = "Letters:"  # how a spelled reply begins: the way of working a reply chose is read off it
MAX_LETTERS = 8  # a word's length: short words, so a spelled-out reply fits the smallest block
# A question's right count is 0, 1, or 2 and more, in equal shares: a constant guess ("1") gets a third,
# so answering at once cannot look like counting (most letters of a short word appear once).
COUNT_CLASSES = (0, 1, 2)
N_LETTERS = (600, 300)  # letter questions drawn per side (training, held-out)


@dataclass(frozen=True)
class LetterQuestion:
    id: str
    text: str
    word: str  # lower case
    letter: str
    count: int  # times the letter is in the word


def letter_words(world: World) -> list[str]:
    """The short words letters are counted in, sorted: the kitchen's (its dish names and ingredients, seen
    or not) and the names of Ming's records (names.txt, shipped). The names are words outside the
    kitchen: spelling thousands of them teaches the letters of most of the BPE's pieces, so a word never
    spelled ("strawberry") can still be spelled from its pieces."""
    names = [d.name for d in world.dishes + world.unseen] + [i for d in world.dishes for i in d.ingredients]
    kitchen = {w for name in names for w in name.lower().split()}
    return sorted(w for w in kitchen | set(_record_names()) if w.isalpha() and 3 <= len(w) <= MAX_LETTERS)


@functools.cache
def _record_names() -> tuple[str, ...]:
    return tuple(data.read_docs(data.shipped("names")))


def training_words(world: World, seed: int = 0, share: float = HELD_OUT_SHARE) -> list[str]:
    """The letter_words on the training side of the split by word (a held-out word is never spelled)."""
    return [w for w in letter_words(world) if not _held_out(w, seed, share)]


def letter_questions(world: World, seed: int = 0, held_out: bool = False, n: int | None = None,
                     share: float = HELD_OUT_SHARE) -> list[LetterQuestion]:
    """n letter counts (N_LETTERS' for the side by default; fewer if the words run out), one a word, split
    by word: a held-out word is never counted or spelled in training, so a right count on it is read from
    the word's pieces, not recalled. The right counts cycle through COUNT_CLASSES (a word without a
    letter of the class it is drawn for is passed over), then shuffled."""
    n = N_LETTERS[held_out] if n is None else n
    if n < 1 or not 0.0 < share < 1.0:
        raise OmakaseError(f"n must be at least 1 (got {n}) and share between 0 and 1 (got {share})")
    r = random.Random(f"letters|{seed}|{held_out}")
    words = [w for w in letter_words(world) if _held_out(w, seed, share) == held_out]
    if not words:
        side = "held-out" if held_out else "training"
        raise OmakaseError(f"none of the words falls on the {side} side (share {share}); use another share")
    r.shuffle(words)
    out = []
    for word in words:
        want = COUNT_CLASSES[len(out) % len(COUNT_CLASSES)]
        letters = [c for c in "abcdefghijklmnopqrstuvwxyz" if min(word.count(c), COUNT_CLASSES[-1]) == want]
        if not letters:
            continue
        letter = r.choice(letters)
        text = r.choice(ASK_LETTER).format(l=letter, word=word)
        out.append(LetterQuestion(f"letters:{word}:{letter}", text, word, letter, word.count(letter)))
        if len(out) == n:
            break
    r.shuffle(out)  # not in the classes' cycle: every third question taken (evaluate.evenly) would be one class
    return out


def spelled(q: LetterQuestion) -> str:
    """The word letter by letter, each hit tagged with the count so far: "s t r=1 a w b e r=2 r=3 y"."""
    seen, letters = 0, []
    for c in q.word:
        seen += c == q.letter
        letters.append(f"{c}={seen}" if c == q.letter else c)
    return " ".join(letters)


def letter_reply(q: LetterQuestion, style: str) -> str:
    """direct: the count at once; spelled: the letters first (one a token, the count kept running on the
    hits, so no token counts more than one step); calculator: the word and the letter copied from the
    question into count(word, letter), which reads the letters the model cannot see."""
    said = f"The letter {q.letter} appears {q.count} time{'s' if q.count != 1 else ''}."
    if style == "direct":
        return said
    if style == "spelled":
        return f"{SPELLED_START} {spelled(q)}. {said}"
    if style == "calculator":
        call = f"count({q.word}, {q.letter})"
        return call_text("calc", call, calculator_tool(call)) + said
    raise OmakaseError(f"unknown letter style {style!r}; choose one of: {', '.join(LETTER_STYLES)}")


def letter_conversations(questions: list[LetterQuestion], style: str) -> list[list[dict]]:
    return [[{"role": "user", "content": q.text}, {"role": "assistant", "content": letter_reply(q, style)}]
            for q in questions]


def is_right_count(q: LetterQuestion, reply: str) -> bool:
    """The count is the reply's last number (a spelled reply's tallies come before it)."""
    numbers = [m.group() for m in NUMBER.finditer(reply)]
    return bool(numbers) and float(numbers[-1].replace(",", "")) == q.count


def letter_results(questions: list[LetterQuestion], replies: list[str]) -> dict:
    """Accuracy overall and by the right count (0, 1, 2, 3+), and the share a constant guess of 1 gets."""
    if len(questions) != len(replies):
        raise OmakaseError(f"{len(questions)} questions but {len(replies)} replies; give one reply per question")
    right = [is_right_count(q, r) for q, r in zip(questions, replies)]
    counts = [str(q.count) if q.count < 3 else "3+" for q in questions]
    return {"all": Rate.of(right), "by_count": _grouped(right, counts),
            "always_one": Rate.of([q.count == 1 for q in questions]), "right": right}


# -- comparisons: 9.11 or 9.9 -------------------------------------------------------------------

ASK_COMPARE = ("Which is bigger, {a} or {b}?", "Which number is larger: {a} or {b}?",
               "Is {a} or {b} the bigger number?")
COMPARE_KINDS = ("same whole, trap", "same whole, no trap", "different whole")
COMPARE_STYLES = ("direct", "padded")


@dataclass(frozen=True)
class Comparison:
    id: str
    text: str
    a: str  # in the order asked
    b: str
    bigger: str
    kind: str  # "same whole, trap": the digits after the point, read as whole numbers, pick the wrong one


def comparison_questions(seed: int = 0, n: int = 600, held_out: bool = False,
                         share: float = HELD_OUT_SHARE) -> list[Comparison]:
    """n distinct pairs of price-like decimals (1 to 60, one or two decimals), a third of each kind;
    the split is by the pair, so a held-out pair is never asked in training (in either order)."""
    if n < 1 or not 0.0 < share < 1.0:
        raise OmakaseError(f"n must be at least 1 (got {n}) and share between 0 and 1 (got {share})")
    r = random.Random(f"compare|{seed}|{held_out}")
    out: dict[tuple, Comparison] = {}
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 100 * n:
            raise OmakaseError(f"could not draw {n} distinct pairs; ask for fewer")
        kind = COMPARE_KINDS[len(out) % len(COMPARE_KINDS)]
        x, y = _pair(kind, r)
        key = tuple(sorted((x, y)))
        if key in out or _held_out("|".join(key), seed, share) != held_out:
            continue
        a, b = (x, y) if r.random() < 0.5 else (y, x)
        bigger = max(a, b, key=float)
        text = r.choice(ASK_COMPARE).format(a=a, b=b)
        out[key] = Comparison(f"compare:{'held' if held_out else 'train'}:{len(out)}", text, a, b, bigger, kind)
    drawn = list(out.values())
    r.shuffle(drawn)  # not in the kinds' cycle: every third pair taken (evaluate.evenly) would be one kind
    return drawn


def _pair(kind: str, r: random.Random) -> tuple[str, str]:
    """Two different decimals of the kind asked."""
    def two_digits():
        return r.choice([d for d in range(11, 100) if d % 10])

    whole = r.randint(1, 60)
    while True:
        if kind == "different whole":
            other = r.choice([w for w in range(1, 61) if w != whole])
            x, y = _decimal(whole, r), _decimal(other, r)
        elif kind == "same whole, no trap":
            x, y = f"{whole}.{two_digits()}", f"{whole}.{two_digits()}"
        else:  # one decimal against two, the two-digit one smaller as a number, bigger as digits: 9.9 vs 9.11
            tenth = r.randint(2, 9)
            longer = r.choice([d for d in range(max(10, tenth + 1), tenth * 10) if d % 10])
            x, y = f"{whole}.{tenth}", f"{whole}.{longer}"
        if float(x) != float(y):
            return x, y


def _decimal(whole: int, r: random.Random) -> str:
    decimals = r.randint(1, 9) if r.random() < 0.5 else r.choice([d for d in range(11, 100) if d % 10])
    return f"{whole}.{decimals}"


def comparison_reply(q: Comparison, style: str = "direct") -> str:
    """direct: the answer at once. padded: both numbers written to two decimals first, so their
    decimal parts are alike in length (and, often, in pieces), compared as whole numbers; then the answer."""
    if style == "direct":
        return f"{q.bigger} is bigger."
    if style == "padded":
        (wa, da), (wb, db) = (f"{float(x):.2f}".split(".") for x in (q.a, q.b))
        left, right = (wa, wb) if wa != wb else (da, db)
        sign = ">" if int(left) > int(right) else "<"
        return f"{wa}.{da} vs {wb}.{db}: {left} {sign} {right}, so {q.bigger} is bigger."
    raise OmakaseError(f"unknown comparison style {style!r}; choose one of: {', '.join(COMPARE_STYLES)}")


def comparison_conversations(questions: list[Comparison], style: str = "direct") -> list[list[dict]]:
    return [[{"role": "user", "content": q.text}, {"role": "assistant", "content": comparison_reply(q, style)}]
            for q in questions]


def compared(reply: str, style: str = "direct") -> float | None:
    """The number the reply picks: the first it names (direct), the last (padded: its working comes first)."""
    if style not in COMPARE_STYLES:
        raise OmakaseError(f"unknown comparison style {style!r}; choose one of: {', '.join(COMPARE_STYLES)}")
    numbers = list(NUMBER.finditer(reply))
    if not numbers:
        return None
    return float(numbers[0 if style == "direct" else -1].group().replace(",", ""))


def is_right_comparison(q: Comparison, reply: str, style: str = "direct") -> bool:
    return compared(reply, style) == float(q.bigger)


def number_pieces(number: str, bpe) -> list[bytes]:
    """The pieces a number becomes after a space, as it sits in a question."""
    return [bpe.piece(t) for t in bpe.encode(" " + number)]


def tokenization_group(q: Comparison, bpe) -> dict[str, str]:
    """How the BPE cuts the pair: the same number of pieces or not; every decimal part one piece or not."""
    a, b = number_pieces(q.a, bpe), number_pieces(q.b, bpe)
    decimals = [len(bpe.encode(x.split(".")[1])) for x in (q.a, q.b)]
    return {"pieces": "same number of pieces" if len(a) == len(b) else "different number of pieces",
            "decimals": "each decimal part one piece" if decimals == [1, 1] else "a decimal part split",
            "cut": f"{'|'.join(p.decode() for p in a)} vs {'|'.join(p.decode() for p in b)}"}


def comparison_results(questions: list[Comparison], replies: list[str], bpe, style: str = "direct") -> dict:
    """Accuracy overall, by kind (trap or not) and by how the BPE cuts the two numbers; `names_one`: the
    share that picks one of the two numbers at all (a model that cannot copy them fails before comparing)."""
    if len(questions) != len(replies):
        raise OmakaseError(f"{len(questions)} questions but {len(replies)} replies; give one reply per question")
    right = [is_right_comparison(q, r, style) for q, r in zip(questions, replies)]
    groups = [tokenization_group(q, bpe) for q in questions]
    picked = [compared(r, style) for r in replies]
    named = [p in (float(q.a), float(q.b)) for q, p in zip(questions, picked)]
    return {"all": Rate.of(right), "names_one": Rate.of(named),
            "by_kind": _grouped(right, [q.kind for q in questions]),
            "by_pieces": _grouped(right, [g["pieces"] for g in groups]),
            "by_decimals": _grouped(right, [g["decimals"] for g in groups]),
            "by_kind_and_pieces": _grouped(right, [f"{q.kind} / {g['pieces']}" for q, g in zip(questions, groups)]),
            "right": right}


# -- the three experiments' data, fitted to a block, and their measurement ----------------------

def experiments(world: World, bpe, block_size: int, seed: int = 0, n_bills: int | None = None,
                n_comparisons: tuple[int, int] = (600, 200), short_bills: bool = False) -> dict:
    """Training and held-out questions of each experiment, keeping only those whose every variant fits
    the block, and each variant's SFT conversations on the training questions:

        {"bills": {"train", "held_out", "dropped": {"train", "held_out"}, "sft": {style: conversations}},
         "letters": {... the same, styles direct / spelled / calculator}, "comparisons": {... styles direct / padded}}

    n_bills: bills per side (None: bills.py's 600 and 200); short_bills: ask them with counts and prices
    only (`shortened`), for a small block."""
    from ..data.bills import bill_questions

    def bill_side(held_out):
        drawn = bill_questions(world, seed, None if n_bills is None else n_bills, held_out=held_out, show_prices=True)
        return [shortened(b) for b in drawn] if short_bills else drawn

    sides = {
        "bills": (bill_side, lambda qs: {s: bill_conversations(qs, s) for s in BILL_STYLES}),
        "letters": (lambda held_out: letter_questions(world, seed, held_out=held_out),
                    lambda qs: {s: letter_conversations(qs, s) for s in LETTER_STYLES}),
        "comparisons": (lambda held_out: comparison_questions(seed, n_comparisons[held_out], held_out=held_out),
                        lambda qs: {s: comparison_conversations(qs, s) for s in COMPARE_STYLES}),
    }
    out = {}
    for name, (draw, conversations) in sides.items():
        got: dict = {"dropped": {}}
        for side, held_out in (("train", False), ("held_out", True)):
            questions = draw(held_out)
            got[side], got["dropped"][side] = fitting(questions, conversations(questions), bpe, block_size)
        got["sft"] = conversations(got["train"])
        out[name] = got
    return out


def measure_bills(model, bpe, bills: list[Bill], style: str, progress=None) -> dict:
    """A model fine-tuned on one style, asked the held-out bills: bill_results of its replies."""
    return bill_results(bills, replies(model, bpe, [b.text for b in bills], progress=progress), bpe, style)


def measure_letters(model, bpe, questions: list[LetterQuestion], style: str, progress=None) -> dict:
    """A model fine-tuned on one letter style (the calculator style gets the calculator), asked the held-out names."""
    if style not in LETTER_STYLES:
        raise OmakaseError(f"unknown letter style {style!r}; choose one of: {', '.join(LETTER_STYLES)}")
    said = replies(model, bpe, [q.text for q in questions], calculator=style == "calculator", progress=progress)
    return letter_results(questions, said)


def measure_comparisons(model, bpe, questions: list[Comparison], style: str = "direct", progress=None) -> dict:
    said = replies(model, bpe, [q.text for q in questions], progress=progress)
    return comparison_results(questions, said, bpe, style)


# -- shared: the block, asking, grouping ----------------------------------------------------------

def length(conversation: list[dict], bpe) -> int:
    """Tokens of a conversation as SFT renders it (sft.examples: tool markers as their special tokens)."""
    return len(render_with_tools(conversation, bpe).ids)


def practice_bills(world: World, bpe, block_size: int, seed: int = 0, held_out: bool = False) -> list[Bill]:
    """The bills GRPO practises on (prices shown, as sft-work was taught), those whose work-first
    conversation fits the block; asked with counts and prices only (`shortened`) when fewer than half
    of the full questions fit (a small model's block)."""
    from ..data.bills import bill_questions

    drawn = bill_questions(world, seed, held_out=held_out)
    kept: list[Bill] = []
    for candidates in (drawn, [shortened(b) for b in drawn]):
        kept = [b for b in candidates if length(bill_conversations([b], "work-first")[0], bpe) <= block_size]
        if 2 * len(kept) >= len(drawn):
            break
    return kept


def fitting(questions: list, conversations: dict[str, list[list[dict]]], bpe, block_size: int) -> tuple[list, int]:
    """The questions whose conversation fits the block in every variant ({variant: conversations in
    the questions' order}), and how many were dropped: the variants are compared on the same questions."""
    for name, convs in conversations.items():
        if len(convs) != len(questions):
            raise OmakaseError(f"variant {name!r} has {len(convs)} conversations for {len(questions)} questions")
    if bpe is None:  # no block to fit: a model with a long context (measure/smollm2.py) is asked every question
        return list(questions), 0
    keep = [q for i, q in enumerate(questions)
            if all(length(convs[i], bpe) <= block_size for convs in conversations.values())]
    return keep, len(questions) - len(keep)


def replies(model, bpe, texts: list[str], calculator: bool = False, max_new: int = MAX_NEW, progress=None) -> list[str]:
    """Greedy replies to one-turn questions (evaluate.ask); with `calculator`, the orchestrator runs its
    calls, and the reply is what a guest reads: the call and its result are not the model's answer."""
    tools = {"calc": calculator_tool} if calculator else None
    return [a.reply for a in ask(model, bpe, texts, max_new=max_new, progress=progress, tools=tools)]


def _grouped(right: list[bool], groups: list) -> dict:
    """A Rate per group, the groups in a reader's order: by their leading number ("8-15" after "0-7"), then by name."""
    def order(g):
        m = re.match(r"\d+", str(g))
        return (0, int(m.group()), str(g)) if m else (1, 0, str(g))

    return {g: Rate.of([x for x, h in zip(right, groups) if h == g]) for g in sorted(set(groups), key=order)}


def _held_out(key: str, seed: int, share: float) -> bool:
    return zlib.crc32(f"{seed}|{key}".encode("utf-8")) % 1000 < share * 1000
