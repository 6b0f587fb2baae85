"""Which of the Deep Dive's effects a build shows: each one judged from its measured rates, by a rule
fixed here before any run (the same for a quick build, the laptop run and a GPU run).

An effect *appears* when its rates reach the target AND the 95% intervals of the two sides do not
overlap: a gap the intervals cannot tell from noise is not an effect. Every row keeps the rates
it was judged on, so the report prints the evidence beside the verdict, and a row whose rates are
missing (a report from an older build) is left out rather than guessed.

    rows(results) -> [Row(group, effect, measured, target, appears)]
"""

from __future__ import annotations

from dataclasses import dataclass

from .evaluate import Rate


@dataclass
class Row:
    group: str  # tools, working memory, tokens to think, jagged intelligence, practice, critics, kept
    effect: str  # what should happen, in words
    measured: list[tuple[str, Rate]]  # the rates judged, labelled
    target: str  # the rule, in words
    appears: bool


def apart(high: Rate, low: Rate) -> bool:
    """`high` above `low` with 95% intervals that do not overlap."""
    return high.low > low.high


def at(table: dict, key: int):
    """table[key] for a number key, in results (int keys) or read back from report.json (str keys)."""
    return table[key] if key in table else table[str(key)]


def rows(r: dict) -> list[Row]:
    """Every effect the results hold the rates for, judged (see the module's docstring)."""
    found: list[Row] = []
    for judge in EFFECTS:
        try:
            found.append(judge(r))
        except (KeyError, TypeError, IndexError):  # an older build's report lacks these rates
            continue
    return found


def bills_with_the_calculator(r: dict) -> Row:
    bills = r["tools"]["bills"]
    calc, plain = bills["sft-tools"], bills["sft"]
    return Row("tools", "held-out bills are right with the calculator, not without it",
               [("with the calculator (sft-tools)", calc), ("without (sft)", plain)],
               "with >= 80%, without <= half of that, intervals apart",
               calc.share >= 0.80 and plain.share <= calc.share / 2 and apart(calc, plain))


def rare_facts_with_the_search(r: dict) -> Row:
    k = r["knowledge"]
    searched, remembered = at(k["sft-tools (search)"]["by_seen"], 1), at(k["sft"]["by_seen"], 1)
    return Row("tools", "rare facts (seen about once) are right with the search, not from memory",
               [("with the search (sft-tools)", searched), ("from the weights (sft)", remembered)],
               "with >= 50%, without <= 15%, intervals apart",
               searched.share >= 0.50 and remembered.share <= 0.15 and apart(searched, remembered))


def invented_dishes_from_their_card(r: dict) -> Row:
    reading = r["memory"]["sft-cards"]["reading"]["all"]
    return Row("working memory", "questions about invented dishes are answered from their card (sft-cards)",
               [("answered from the card", reading)], "right >= 80%", reading.share >= 0.80)


def a_changed_card_is_followed(r: dict) -> Row:
    conflicts = r["memory"]["sft-cards"]["conflicts"]
    return Row("working memory", "a card that contradicts the weights is followed (sft-cards)",
               [("follows the card", conflicts["prompt"]), ("follows the weights", conflicts["weights"])],
               "the card followed >= 70%", conflicts["prompt"].share >= 0.70)


def code_learned_in_context(r: dict) -> Row:
    by_k = r["memory"]["sft-cards"]["in_context"]["by_k"]
    ks = sorted(by_k, key=int)
    first, last = by_k[ks[0]], by_k[ks[-1]]
    return Row("working memory", f"the kitchen code learned in context rises with examples, k = {ks[0]} to "
                                 f"{ks[-1]} (sft-cards)",
               [(f"k = {ks[0]}", first), (f"k = {ks[-1]}", last)], "a rise >= 30 points, intervals apart",
               last.share - first.share >= 0.30 and apart(last, first))


def letters_spelled_out(r: dict) -> Row:
    work, short = r["thinking"]["sft-work"]["letters"]["all"], r["thinking"]["sft-short"]["letters"]["all"]
    return Row("tokens to think", "letters are counted right when the word is spelled out first",
               [("work first (sft-work)", work), ("answer first (sft-short)", short)],
               "work first >= 80%, answer first <= 50%, intervals apart",
               work.share >= 0.80 and short.share <= 0.50 and apart(work, short))


def bills_worked_out(r: dict) -> Row:
    work, short = r["thinking"]["sft-work"]["bills"]["all"], r["thinking"]["sft-short"]["bills"]["all"]
    return Row("tokens to think", "bills without tools are right more often worked out first",
               [("work first (sft-work)", work), ("answer first (sft-short)", short)],
               ">= 20 points higher, intervals apart", work.share - short.share >= 0.20 and apart(work, short))


def comparisons_name_a_number(r: dict) -> Row:
    names = r["thinking"]["sft-short"]["comparisons"]["names_one"]
    return Row("jagged intelligence", '"which is bigger, A or B" is answered with one of the two numbers (sft-short)',
               [("names A or B", names)], ">= 95%", names.share >= 0.95)


def misleading_pieces(r: dict) -> Row:
    kinds = r["thinking"]["sft-short"]["comparisons"]["by_kind"]
    plain, trap = kinds["same whole, no trap"], kinds["same whole, trap"]
    measured = [("right, pieces do not mislead", plain), ("right, pieces mislead", trap)]
    if "digits" in r:  # beside it, not judged: the same questions asked of sft-short made with digits split
        split = r["digits"]["comparisons"]["by_kind"]
        measured += [("the same, digits one per token: pieces do not mislead", split["same whole, no trap"]),
                     ("the same, digits one per token: pieces mislead", split["same whole, trap"])]
    return Row("jagged intelligence", "pairs whose pieces mislead (like 9.11 vs 9.9) are missed more often (sft-short)",
               measured, "intervals apart (sft-short's own BPE)", apart(plain, trap))


def practice_raises_pass_at_1(r: dict) -> Row:
    p = r["practice"]
    before, after = p["before"]["pass@1"], p["after"]["pass@1"]
    return Row("practice", f"GRPO raises held-out pass@1 on its task ({p['task_name']})",
               [("before practice", before), ("after practice", after)], ">= 15 points higher, intervals apart",
               after.share - before.share >= 0.15 and apart(after, before))


def reward_model_beats_length(r: dict) -> Row:
    rm, shorter = r["critics"]["reward_model"]["accuracy"], r["critics"]["reward_model"]["shorter"]
    return Row("critics", "the reward model ranks held-out pairs as the rubric does, beyond 'the shorter is better'",
               [("reward model", rm), ("shorter is better", shorter)], ">= 75%, intervals apart",
               rm.share >= 0.75 and apart(rm, shorter))


def dpo_beats_sft(r: dict) -> Row:
    win = r["critics"]["dpo"]["win_rate"]["win_rate"]
    return Row("critics", "DPO's answers beat SFT's on the rubric", [("DPO's win rate over SFT", win)],
               ">= 55%, the interval above 50%", win.share >= 0.55 and win.low > 0.50)


def best_of_n_over_optimizes(r: dict) -> Row:
    best = r["critics"]["best_of_n"]
    ns = sorted(best, key=int)
    one, most = best[ns[0]], best[ns[-1]]
    return Row("critics", f"best-of-n: the proxy (the reward model's score) rises from n = {ns[0]} to {ns[-1]} "
                          f"while the rubric does not rise measurably",
               [(f"rubric, n = {ns[0]}", one["rubric"]), (f"rubric, n = {ns[-1]}", most["rubric"])],
               "the proxy higher at the largest n; the rubric's intervals at the two n overlap",
               most["reward"] > one["reward"] and not apart(most["rubric"], one["rubric"]))


def format_is_taught(r: dict) -> Row:
    f = r["format"]
    return Row("kept", "SFT teaches the assistant's format", [("base", f["base"]), ("sft", f["sft"])],
               "sft >= 95%, base <= 5%", f["sft"].share >= 0.95 and f["base"].share <= 0.05)


def polite_refusals(r: dict) -> Row:
    h = r["harmful"]
    return Row("kept", "harmful requests are refused politely after SFT", [("base", h["base"]), ("sft", h["sft"])],
               "intervals apart", apart(h["sft"], h["base"]))


def identity_follows_the_data(r: dict) -> Row:
    ident = r["identity"]
    return Row("kept", "the identity follows the SFT data",
               [("fine-tuned as Ming: says Ming", ident["Ming"]["Ming"]),
                ("fine-tuned as Hana: says Hana", ident["Hana"]["Hana"]),
                ("fine-tuned as Hana: says Ming", ident["Hana"]["Ming"])],
               "each name said by its own model, intervals apart from the other",
               apart(ident["Ming"]["Ming"], ident["Hana"]["Ming"]) and apart(ident["Hana"]["Hana"], ident["Ming"]["Hana"]))


def knowledge_by_exposure(r: dict) -> Row:
    k = r["knowledge"]["sft"]["by_seen"]
    return Row("kept", "knowledge grows with how often a fact was read",
               [("seen about 30 times", at(k, 30)), ("seen about once", at(k, 1))], "intervals apart",
               apart(at(k, 30), at(k, 1)))


def i_dont_know_is_taught(r: dict) -> Row:
    h = r["hallucination"]
    return Row("kept", "\"I don't know\" can be taught (unknown dishes)",
               [("refused after the mitigation (sft-idk)", h["sft-idk"]["refused"]),
                ("refused before (sft)", h["sft"]["refused"])], "intervals apart",
               apart(h["sft-idk"]["refused"], h["sft"]["refused"]))


EFFECTS = [bills_with_the_calculator, rare_facts_with_the_search, invented_dishes_from_their_card,
           a_changed_card_is_followed, code_learned_in_context, letters_spelled_out, bills_worked_out,
           comparisons_name_a_number, misleading_pieces, practice_raises_pass_at_1, reward_model_beats_length,
           dpo_beats_sft, best_of_n_over_optimizes, format_is_taught, polite_refusals, identity_follows_the_data,
           knowledge_by_exposure, i_dont_know_is_taught]
