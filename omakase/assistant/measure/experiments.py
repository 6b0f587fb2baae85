"""The experiments of the second half, run by `build` after SFT: each a variant fine-tuned from the base
model, measured on held-out questions, returned as plain data for the report.

    tools       sft-tools: facts looked up by <|search|> (also in new words), bills (prices
                shown) added up and letters counted by <|calc|>                  (tools.py, bills.py)
    memory      sft-cards: fact cards pasted in front of questions; both SFT models
                with and without the card, against a changed card, on invented dishes,
                and a kitchen code learned in context from k examples            (working_memory.py)
    thinking    sft-short (answer first, count directly, compare directly) against
                sft-work (work first, spell the name out, line the decimals up);
                letters counted with the calculator by sft-tools                 (thinking.py)
    practice    GRPO on the preset's task: letter counts from sft-choose (taught to answer
                half the words at once, half spelled out: two ways to choose between),
                or bills from sft-work: pass@1 and pass@k before and after, the reward
                and the answer length over practice, how often it spells    (rl.py)
    critics     pairs of the SFT model's own answers judged by the rubric, a reward
                model, DPO, best-of-n and practice against the reward model
                                                                                 (preference.py, reward_model.py, dpo.py)

Every variant starts from the same base model as `sft` and differs from it only in the
conversations named here (`Setup.tune`), so a difference between them is the data's doing.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ...errors import OmakaseError
from ...model import save as save_stage
from ..stages import dpo, preference, rl
from . import evaluate
from ..skills import working_memory, thinking
from ..data import smalltalk
from ..data.bills import is_right_total
from ..skills.calculator import calculator_tool
from ..stages.midtrain import (invented_card_conversations, invented_dishes_drawn, invented_search_conversations,
                               library_search_conversations)
from ..stages.reward_model import best_of_n, pair_accuracy, reward_function, reward_model, train_reward_model


@dataclass
class Setup:
    """What every experiment reads."""
    out: Path  # the build folder: variants are saved as OUT/<stage>
    base: object
    sft: object  # the labelers' SFT model
    bpe: object
    world: object
    preset: object  # build.Preset
    preset_name: str
    seed: int
    held_out: list  # held-out fact questions (already capped to the preset's max_facts)
    seen: dict  # fact id -> how many training documents state it
    search: Callable  # the search tool over the build's library
    tune: Callable  # tune(stage, bills=None, extra=(), search=None) -> (model, info): a variant of SFT from base
    tick: Callable  # tick(stage, done, total): progress

    def keep(self, stage: str, m) -> None:
        save_stage(self.out / stage, m, self.bpe, {"stage": "sft", "variant": stage, "preset": self.preset_name,
                                                  "seed": self.seed})

    def cap(self, items: list) -> list:
        return evaluate.evenly(items, self.preset.max_questions)

    def ask(self, m, texts: list[str], label: str, tools=None) -> list:
        return evaluate.ask(m, self.bpe, texts, tools=tools, progress=lambda d, t: self.tick(label, d, t))

    @property
    def tools(self) -> dict:
        return {"calc": calculator_tool, "search": self.search}


def kinded(kind: str, conversations: list[list[dict]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Conversations (user and assistant turns, one or more of each) as labelers.sft_conversations' `extra`:
    (kind, [(user, assistant), ...])."""
    return [(kind, [(u["content"], a["content"]) for u, a in zip(c[0::2], c[1::2])]) for c in conversations]


# taught facts asked in new words and looked up in the build's library, added to sft-tools' set
# (midtrain.library_search_conversations): SFT undoes part of what mid-training taught, and the 124de87 cpu
# run's mid-trained model answered 64% of held-out facts with the search where its sft-tools answered 51%
# (the same lever took invented dishes' cards from 77% to 92-95%: INVENTED_CARDS below). Measured in the 489375f
# cpu run, it did not help: held-out facts seen once 46% with the search, as in the 124de87 run without it
SEARCHED_FACTS = 400


def sft_tools_conversations(world, seed: int, search, letters: list, preset) -> list[tuple[str, list[tuple[str, str]]]]:
    """What sft-tools adds to SFT (as `kinded`): letters counted with the calculator, SEARCHED_FACTS taught facts
    in new words searched in the library, the preset's `invented_searches` invented dishes searched among their
    sentences (which only the result can answer)."""
    searched = library_search_conversations(world, seed, search, SEARCHED_FACTS, random.Random(f"sft-tools|{seed}"))
    # invented dishes after mid-training's and sft-cards' (sft_card_conversations)
    drawn = invented_dishes_drawn(preset.midtrain_per_skill) + INVENTED_CARDS
    dishes = working_memory.practice_dishes(world, drawn + preset.invented_searches, seed)[drawn:]
    invented = invented_search_conversations(dishes, world, preset.search_chars, random.Random(f"sft-tools|{seed}|invented"))
    return (kinded("letters", letters) + kinded("search in new words", searched)
            + kinded("search about invented dishes", invented))


def tools_experiment(s: Setup, sets: dict) -> dict:
    """sft-tools against sft without tools: held-out bills (their prices shown, so the call copies them from
    the question), and held-out facts by how often they were seen. It is also taught to count letters with
    the calculator's count(word, letter) (thinking.py's third letter style), and more searches
    (sft_tools_conversations)."""
    extra = sft_tools_conversations(s.world, s.seed, s.search, sets["letters"]["sft"]["calculator"], s.preset)
    tuned, info = s.tune("sft-tools", search=s.search, extra=extra)
    s.keep("sft-tools", tuned)
    bills = s.cap(sets["bills"]["held_out"])
    asked = [b.text for b in bills]
    plain = s.ask(s.sft, asked, "bills")
    with_calc = s.ask(tuned, asked, "bills+calc", s.tools)
    facts = s.ask(tuned, [q.text for q in s.held_out], "facts+search", s.tools)
    return {"sft": info,
            "bills": {"sft": evaluate.Rate.of([is_right_total(b, a.reply) for b, a in zip(bills, plain)]),
                      "sft-tools": evaluate.Rate.of([is_right_total(b, a.reply) for b, a in zip(bills, with_calc)]),
                      "called": evaluate.Rate.of([any(c.tool == "calc" for c in a.calls) for a in with_calc]),
                      "example": {"question": asked[0], "sft": plain[0].reply, "sft-tools": with_calc[0].shown}},
            "searched": evaluate.Rate.of([any(c.tool == "search" for c in a.calls) for a in facts]),
            "knowledge": evaluate.knowledge(s.held_out, facts, s.seen),
            "letters": thinking.measure_letters(tuned, s.bpe, s.cap(sets["letters"]["held_out"]), "calculator")}


# invented dishes' cards added to sft-cards' card conversations, half asking for the list of ingredients
# (midtrain.invented_card_conversations): SFT undoes part of what mid-training taught (the 0aa86aa cpu run's
# mid-trained model read 98% of invented dishes' cards, its sft-cards 77%); 400 of them took sft-cards made
# again from that run's mid-trained model to 92-95% (two pilots; benchmarks/assistant_pilots.py cards)
INVENTED_CARDS = 400
# few-shot conversations in the kitchen code's siblings (working_memory.sibling_code_conversations) added to
# sft-cards: mid-training taught reading a code off worked examples (a pilot on a cpu base: k = 0 0%, k = 1 83%,
# k = 4 86%) and SFT on one-turn conversations alone undid it (k = 4 4%); with these 300, k = 0 0.5%, k = 1 64%,
# k = 4 55%, invented dishes still read from their card 96% (benchmarks/assistant_pilots.py cards)
SIBLING_CODES = 300


def sft_card_conversations(world, bpe, block_size: int, seed: int, midtrain_per_skill: int,
                           codes: int = SIBLING_CODES) -> dict:
    """The card conversations sft-cards adds to SFT, working_memory.card_conversations' and INVENTED_CARDS more
    invented dishes' cards, and `codes` few-shot conversations in the kitchen code's siblings about the same
    dishes: {"cards": conversations, "codes": conversations, "counts": {kind: conversations}}."""
    cards = working_memory.card_conversations(world, bpe, block_size, seed)
    # invented dishes after mid-training's; none is one `reading` measures
    drawn = invented_dishes_drawn(midtrain_per_skill)
    dishes = working_memory.practice_dishes(world, drawn + INVENTED_CARDS, seed)[drawn:]
    practice = invented_card_conversations(dishes, world, bpe, block_size, random.Random(f"sft-cards|{seed}"))
    few_shot = working_memory.sibling_code_conversations(dishes, bpe, block_size, codes, seed)
    return {"cards": cards["train"] + practice, "codes": few_shot,
            "counts": cards["counts"] | {"invented for practice (half asking for the list)": len(practice),
                                         "few-shot codes (the kitchen code's siblings)": len(few_shot)}}


def memory_experiment(s: Setup) -> dict:
    """Cards, conflicts, reading and the kitchen code, for sft and for sft-cards (taught to read cards)."""
    block = s.sft.config.block_size
    cards = sft_card_conversations(s.world, s.bpe, block, s.seed, s.preset.midtrain_per_skill)
    tuned, info = s.tune("sft-cards", extra=kinded("card", cards["cards"]) + kinded("few-shot code", cards["codes"]))
    s.keep("sft-cards", tuned)
    questions = working_memory.card_questions(s.held_out, s.world, s.bpe, block, s.seed)
    n = min(200, s.preset.max_questions or 200)  # reading and the code: 200 questions each, fewer in a quick build
    out = {"training": info | {"cards": cards["counts"]}, "questions": len(questions),
           "lengths": working_memory.longest_prompts(s.bpe, s.world, s.seed)}
    for name, m in (("sft", s.sft), ("sft-cards", tuned)):
        s.tick(f"memory {name}", 0, 4)
        with_card = working_memory.with_and_without_card(m, s.bpe, s.world, questions, s.seen)
        out[name] = {"cards": with_card,
                     "conflicts": working_memory.conflicts(m, s.bpe, s.world, questions, s.seen, s.seed,
                                                   known=with_card["without"]["right"]),
                     "reading": working_memory.reading(m, s.bpe, s.world, n, s.seed),
                     "in_context": working_memory.in_context(m, s.bpe, s.world, n, seed=s.seed)}
    return out


# the two ways of working the thinking experiment compares: (bill style, letter style, comparison style)
THINKING_VARIANTS = {"sft-short": ("answer-first", "direct", "direct"), "sft-work": ("work-first", "spelled", "padded")}


def thinking_conversations(sets: dict, stage: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """What `stage` (THINKING_VARIANTS) adds to SFT, as `kinded`: the training bills, letter counts and
    comparisons of `sets` (thinking.experiments), each answered in the stage's style."""
    bill_style, letter_style, compare_style = THINKING_VARIANTS[stage]
    return (kinded("bill", sets["bills"]["sft"][bill_style]) + kinded("letters", sets["letters"]["sft"][letter_style])
            + kinded("comparison", sets["comparisons"]["sft"][compare_style]))


def thinking_experiment(s: Setup, sets: dict) -> tuple[dict, object]:
    """sft-short against sft-work on held-out bills, letters and comparisons; (results, the sft-work model)."""
    held = {task: s.cap(sets[task]["held_out"]) for task in ("bills", "letters", "comparisons")}
    out: dict = {"dropped": {task: sets[task]["dropped"] for task in held}, "by_tokens": {}}
    models = {}
    for stage, (bill_style, letter_style, compare_style) in THINKING_VARIANTS.items():
        # its bills are answered in its style only
        models[stage], info = s.tune(stage, bills=0, extra=thinking_conversations(sets, stage))
        s.keep(stage, models[stage])
        out[stage] = {"sft": info, "styles": [bill_style, letter_style, compare_style],
                      "bills": thinking.measure_bills(models[stage], s.bpe, held["bills"], bill_style),
                      "letters": thinking.measure_letters(models[stage], s.bpe, held["letters"], letter_style),
                      "comparisons": thinking.measure_comparisons(models[stage], s.bpe, held["comparisons"],
                                                                  compare_style)}
    out["by_tokens"] = thinking.pooled_by_tokens({out[v]["styles"][0]: out[v]["bills"] for v in THINKING_VARIANTS})
    return out, models["sft-work"]


# practice's start on letter counts, sft-choose: sft-work's set, its letter counts CHOOSE_DIRECT_SHARE answered at
# once and the rest spelled out first (one question a word: split by word). From sft-work, which always spells,
# GRPO has nothing to choose: its misses are misspelled pieces that no sample of its own fixes (pass@1 62% -> 64%
# in the 124de87 cpu run). A model that holds two ways of working can learn to take the one that is right more
# often: a pilot on that run went 46% -> 63% (docs/assistant.md; benchmarks/assistant_pilots.py choose)
CHOOSE_DIRECT_SHARE = 0.5


def choose_conversations(sets: dict, direct_share: float = CHOOSE_DIRECT_SHARE) -> list[tuple[str, list[tuple[str, str]]]]:
    """sft-choose's conversations beside the labelers' (as `kinded`): sft-work's bills and comparisons, and
    the training letter counts, `direct_share` of the words answered at once, the rest spelled out."""
    train = sets["letters"]["train"]
    cut = round(len(train) * direct_share)
    letters = thinking.letter_conversations(train[:cut], "direct") + thinking.letter_conversations(train[cut:], "spelled")
    return (kinded("bill", sets["bills"]["sft"]["work-first"]) + kinded("letters", letters)
            + kinded("comparison", sets["comparisons"]["sft"]["padded"]))


# the tasks practice can run on: (what the report says, thinking.experiments' set, the checker, the start)
PRACTICE_TASKS = {
    "bills": ("bills with their prices shown, answered without tools (as sft-work was taught: work first); "
              "reward 1 for the right total", "bills", is_right_total, "sft-work"),
    "letters": ("letter counts in short words, answered without tools (sft-choose was taught "
                f"{CHOOSE_DIRECT_SHARE:.0%} of its words answered at once, the rest spelled out first); "
                "reward 1 for the right count", "letters",
                thinking.is_right_count, "sft-choose"),
}


def rl_experiment(s: Setup, worker, sets: dict) -> dict:
    """GRPO on the preset's practice task from its start (sft-work, or sft-choose made here), on the same
    fitted training questions the start was taught, measured before and after on held-out questions. Its
    pass@1 and pass@8 before practice say whether the task has signal: GRPO learns only from groups whose
    answers differ. On letters, also the share of greedy replies that spell the word out: the way of working
    practice chose."""
    task = s.preset.practice_task
    if task not in PRACTICE_TASKS:
        raise OmakaseError(f"unknown practice task {task!r}; choose one of: {', '.join(PRACTICE_TASKS)}")
    said, name, right, start_name = PRACTICE_TASKS[task]
    train = sets[name]["train"]
    held = s.cap(sets[name]["held_out"])
    start, start_info = worker, None
    if start_name == "sft-choose":
        start, start_info = s.tune("sft-choose", bills=0, extra=choose_conversations(sets))
        s.keep("sft-choose", start)

    def measured(m) -> tuple[dict, evaluate.Rate | None]:
        """pass@k on the held-out questions and, on letters, the share of the same greedy replies that spell
        the word out (the way of working practice chose); the replies themselves are not kept."""
        rates = rl.pass_rates(m, s.bpe, held, seed=s.seed, right=right)
        replies = rates.pop("greedy_replies")
        return rates, (evaluate.Rate.of([r.startswith(thinking.SPELLED_START) for r in replies])
                       if task == "letters" else None)

    before, spelled_before = measured(start)
    practised = copy.deepcopy(start)
    plan = replace(s.preset.practice, seed=s.seed)
    history = rl.grpo(practised, s.bpe, train, plan, reward=lambda q, text: float(right(q, text)), reference=start,
                      kl=s.preset.practice_kl, progress=lambda step, h: s.tick("practice", step, plan.steps))
    s.keep("rl", practised)
    after, spelled_after = measured(practised)
    out = {"task": said, "task_name": task, "start": start_name, "kl_coefficient": s.preset.practice_kl,
           "plan": vars(plan), "before": before, "after": after, "history": history.to_dict(),
           "summary": rl.summary(history)}
    if start_info is not None:
        out["start_sft"] = start_info
    if spelled_before is not None:
        out["spelled"] = {"before": spelled_before, "after": spelled_after, "taught_direct": CHOOSE_DIRECT_SHARE}
    return out


def preference_experiment(s: Setup) -> dict:
    """The rubric's pairs, the reward model, DPO, and what optimizing the reward model does."""
    block = s.sft.config.block_size
    pairs_of = smalltalk.pairs() if smalltalk.available() else []
    per_kind = s.preset.per_kind

    def prompts(held_out: bool, n: int):
        return preference.preference_prompts(s.world, s.seed, held_out, n, pairs_of, s.bpe, block)

    held_per_kind = s.preset.held_per_kind or per_kind
    train_prompts = prompts(False, per_kind)
    # held-out pairs come from held-out prompts, more of them: about 4 in 10 prompts give a pair (the rest tie)
    held_pool = prompts(True, max(held_per_kind, s.preset.held_pairs_per_kind))
    held_prompts = preference.first_of_each_kind(held_pool, held_per_kind)
    tools = {"calc": calculator_tool}
    found = preference.sample_pairs(s.sft, s.bpe, train_prompts, seed=s.seed, tools=tools,
                                    progress=lambda d, t: s.tick("pairs", d, t))
    held_found = preference.sample_pairs(s.sft, s.bpe, held_pool, seed=s.seed + 1, tools=tools,
                                         progress=lambda d, t: s.tick("held-out pairs", d, t))
    train, held = found.pairs, held_found.pairs  # best against worst: DPO's pairs, and the held-out measure
    compared = found.every_pair()  # the reward model learns from every comparison the same answers hold
    rm = reward_model(s.sft)
    trained = train_reward_model(rm, s.bpe, compared, replace(s.preset.reward, seed=s.seed),
                                 progress=lambda d, t: s.tick("reward model", d, t))
    tuned, history = dpo.dpo(s.sft, s.bpe, train, replace(s.preset.dpo, seed=s.seed), nll=s.preset.dpo_nll,
                             progress=lambda d, t: s.tick("dpo", d, t))
    s.keep("dpo", tuned)
    proxy = reward_function(rm, s.bpe)
    chased = copy.deepcopy(s.sft)  # practice against the reward model: does the rubric follow the proxy up?
    plan = replace(s.preset.practice, seed=s.seed)
    chase = rl.grpo(chased, s.bpe, train_prompts, plan, reward=proxy, reference=s.sft, kl=s.preset.practice_kl,
                        progress=lambda step, h: s.tick("practice on the critic", step, plan.steps))
    sft_replies = dpo.greedy_replies(s.sft, s.bpe, held_prompts, tools=tools)  # drawn once: the win rate and the chase
    chased_replies = dpo.greedy_replies(chased, s.bpe, held_prompts, tools=tools)
    return {"prompts": {"train": len(train_prompts), "held_out": len(held_prompts)}, "pairs": found.to_dict() | {
                "train": len(train), "held_out": len(held), "held_out_prompts": held_found.prompts,
                "held_out_ties": held_found.ties},
            "reward_model": {"accuracy": pair_accuracy(rm, s.bpe, held), "shorter": preference.shorter_is_chosen(held),
                             "pairs": len(compared), "losses": trained["losses"]},
            "dpo": {"win_rate": dpo.win_rate(tuned, s.sft, s.bpe, held_prompts, tools=tools, sft_replies=sft_replies),
                    "implicit": dpo.implicit_reward_accuracy(tuned, s.sft, s.bpe, held), "nll": s.preset.dpo_nll,
                    "losses": history["losses"]},
            "best_of_n": best_of_n(s.sft, s.bpe, held_prompts, proxy, ns=(1, 2, 4, 8), seed=s.seed, tools=tools,
                                   progress=lambda d, t: s.tick("best-of-n", d, t)),
            "chase": {"summary": rl.summary(chase), "kl_coefficient": s.preset.practice_kl,
                      "rubric_before": evaluate.Rate.of([preference.rubric_share(p, r)
                                                         for p, r in zip(held_prompts, sft_replies)]),
                      "rubric_after": evaluate.Rate.of([preference.rubric_share(p, r)
                                                        for p, r in zip(held_prompts, chased_replies)])}}
