"""The pilots of docs/assistant.md ("Pilots of this run's levers"), each from a finished build's folder.

    python benchmarks/assistant_pilots.py mid BUILD [--steps 1000]
        the build's base model mid-trained as the code now does, asked held-out facts with the search, letters,
        comparisons and invented dishes' cards; BUILD/mid asked the same beside it
    python benchmarks/assistant_pilots.py practice BUILD --task letters|comparisons|facts --lr 1e-4 --steps 60
        GRPO on the task from the model taught it (sft-work, sft-short, sft-tools): pass@k before and after
    python benchmarks/assistant_pilots.py choose BUILD --share 0.5 --lr 1e-4 --steps 60
        practice that can choose (the build's sft-choose, at another share or learning rate); how often it spells
    python benchmarks/assistant_pilots.py ingredients BUILD --share 0.5
        BUILD/mid, 200 more steps on cards, that share of them asking for the list of ingredients: reading by attribute
    python benchmarks/assistant_pilots.py cards BUILD [--codes N]
        sft-cards made again from BUILD/mid as the build makes it (N few-shot code conversations): invented
        dishes read from their card, the kitchen code learned in context
    python benchmarks/assistant_pilots.py tools BUILD [--invented 1000]
        BUILD/sft-tools, and sft-tools made again from BUILD/mid as the build now makes it (with that many searches
        about invented dishes): held-out facts with the search, by how often they were read, where the misses go
        (no search, the answer not in the result, or not copied from it), and bills with the calculator
    python benchmarks/assistant_pilots.py pretrain BUILD OUT --spelling-lists 600 --steps 900
        the cpu preset's corpus, tokenizer and base model made again into OUT with that many spelling lists and
        pretraining steps: words spelled exactly by BUILD/base and by the new base (training-side and held-out
        words, prompted as a spelling list is written), and the new base's held-out loss
    python benchmarks/assistant_pilots.py cloze BUILD [OTHER_BUILD ...]
        each build's base model given a training document that states a held-out fact, cut just before the fact's
        value (the last 96 tokens before it): does it go on with the value? By how often the fact was read; beside
        it, BUILD/sft asked the held-out questions (the report's knowledge by exposure)
    python benchmarks/assistant_pilots.py closed-book BUILD --closed-book 3000
        BUILD/base mid-trained as the build does with that many taught facts asked in new words and answered from
        memory (midtrain's "recall"), then SFT as the build's `sft`: held-out facts from memory by how often read
    python benchmarks/assistant_pilots.py guest-questions BUILD OUT --guest-questions 3000
        the cpu preset's pretraining made again into OUT with that many pages of taught facts asked in a guest's
        words (guest_questions.py), then mid-training and SFT as the build does: held-out facts from memory by how
        often they were read, beside BUILD's own sft (its report)
    python benchmarks/assistant_pilots.py base-spelling BUILD [OTHER_BUILD ...]
        each build's base model spelling 200 training-side words and 200 held-out ones (as `pretrain` measures them)
    python benchmarks/assistant_pilots.py spelling BUILD
        BUILD/sft-work asked the held-out letter questions: is the word spelled right, and is the count right?
    python benchmarks/assistant_pilots.py recall BUILD
        the search tool alone: held-out fact questions whose answer is in the result, by attribute
    python benchmarks/assistant_pilots.py critic BUILD --per-kind 400 --steps 150
        the reward model trained again from BUILD/sft on pairs of that many training prompts per kind (and on the
        first half of them, and on every pair their answers hold): held-out pair accuracy against "the shorter is
        better", on the build's held-out pairs; with --seeds K, the whole set and every pair only, each trained K
        times on the same pairs (the critic's own spread)
    python benchmarks/assistant_pilots.py dpo BUILD --nll 1.0 --per-kind 200
        DPO from BUILD/sft on pairs sampled as the build samples them, without and with the chosen replies'
        likelihood in the loss (dpo.dpo's nll): win rate over SFT and the rubric's criteria on held-out prompts
    python benchmarks/assistant_pilots.py sft-rate BUILD --lr 3e-4
        sft-short and sft-work made again from BUILD/mid at another SFT learning rate: letters and comparisons
    python benchmarks/assistant_pilots.py best-of-n BUILD --n 32 --per-kind 50
        the reward model trained from BUILD/sft as the build trains it, then best-of-n for n = 1, 2, 4 ... 32 on
        the first 50 held-out prompts of each kind: the proxy's score and the rubric's share at each n
    python benchmarks/assistant_pilots.py comparisons BUILD --comparisons 2400 [--midtrain-comparisons 12000 --steps 1500]
        sft-short and sft-work made again from BUILD/mid (or from BUILD/base mid-trained again with that many
        comparisons, for that many steps) with that many training comparisons in SFT (the build's 600): held-out
        comparisons named and picked right, by kind, and letters counted, beside BUILD's (its report)

Measurements, not timings: each prints its rates (held-out items, 95% intervals); run one at a time.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
from dataclasses import replace
from pathlib import Path

from omakase.assistant.data import labelers, pipeline, smalltalk
from omakase.assistant.data.bills import is_right_total
from omakase.assistant.data.world import dish_facts, make_world, states
from omakase.assistant.measure import evaluate
from omakase.assistant.measure.build import PRESETS, corpus, midtrain_stage, pretrain_stage, sft_stage
from omakase.assistant.measure import build_report
from omakase.assistant.measure.experiments import (SIBLING_CODES, THINKING_VARIANTS, choose_conversations, kinded,
                                                   sft_card_conversations, sft_tools_conversations,
                                                   thinking_conversations)
from omakase.assistant.skills import thinking, working_memory
from omakase.assistant.skills.calculator import calculator_tool
from omakase.assistant.skills.search import LIBRARY, search_tool
from omakase.assistant.stages import dpo, preference, rl
from omakase.assistant.stages.reward_model import (best_of_n, pair_accuracy, reward_function, reward_model,
                                                  train_reward_model)
from omakase.assistant.stages.stage_folders import training_pairs
from omakase.assistant.stages.midtrain import midtrain
from omakase.errors import OmakaseError
from omakase.assistant.stages.sft import finetune
from omakase.model.generate import generate
from omakase.model.load import load
from omakase.model.sampler import Sampler
from omakase.plan import nanogpt_plan


def library_search(build: str):
    """BUILD's search tool over the documents it saved, as the cpu build searches them."""
    return search_tool(json.loads((Path(build) / LIBRARY).read_text(encoding="utf-8")),
                       max_chars=PRESETS["cpu"].search_chars)


def reading(network, bpe, world, n: int = 150) -> dict:
    r = working_memory.reading(network, bpe, world, n, 0)
    return {"all": r["all"], **r["by_attribute"]}


def mid(build: str, steps: int) -> None:
    """The build's base model mid-trained as the code now does, measured; then the build's own `mid` beside it."""
    base = load(f"{build}/base", kind="bpe")
    network, bpe, world = copy.deepcopy(base.network), base.tokenizer, make_world(0, "default")
    plan = replace(PRESETS["cpu"].midtrain, steps=steps, seed=0)
    library = library_search(build)
    info = midtrain(network, bpe, world, plan, 0, PRESETS["cpu"].midtrain_per_skill, PRESETS["cpu"].search_chars,
                    library_search=library, comparisons=PRESETS["cpu"].midtrain_comparisons)
    print("mid-training:", info["counts"], "held-out loss", info["history"]["val"])
    measure_mid(network, bpe, world, library)
    print(f"\nthe build's own mid-trained model ({build}/mid), asked the same:")
    measure_mid(load(f"{build}/mid", kind="bpe").network, bpe, world, library)


def measure_mid(network, bpe, world, library) -> None:
    facts = evaluate.evenly(labelers.fact_questions(world, 0).held_out, 200)
    said = evaluate.ask(network, bpe, [q.text for q in facts], tools={"calc": calculator_tool, "search": library})
    print("held-out facts with the search:", evaluate.Rate.of([labelers.is_correct(q, a.reply) for q, a in zip(facts, said)]))
    letters = thinking.letter_questions(world, 0, held_out=True)[:150]
    print("letters spelled out:", thinking.measure_letters(network, bpe, letters, "spelled")["all"])
    compared = thinking.measure_comparisons(network, bpe, thinking.comparison_questions(0, 200, held_out=True)[:150])
    print("names one of the two numbers:", compared["names_one"], "right pick:", compared["all"])
    print("invented dishes from their card:", reading(network, bpe, world))
    print("the kitchen code in context:", working_memory.in_context(network, bpe, world, 200)["by_k"])


def practice(build: str, task: str, lr: float, steps: int) -> None:
    """GRPO on one task from the model that was taught it, as rl_experiment does, on 100 held-out questions (60
    for facts, answered through the tools one at a time): letters from sft-work (spelled out first), comparisons
    from sft-short (answered directly), facts from sft-tools (looked up in the build's library)."""
    start = {"letters": "sft-work", "comparisons": "sft-short", "facts": "sft-tools"}[task]
    tuned = load(f"{build}/{start}", kind="bpe")
    network, bpe, world = tuned.network, tuned.tokenizer, make_world(0, "default")
    tools = None
    if task == "facts":
        questions = labelers.fact_questions(world, 0)
        train, held = questions.train, evaluate.evenly(questions.held_out, 60)
        tools = {"calc": calculator_tool, "search": library_search(build)}
        right = labelers.is_correct
    else:
        sets = thinking.experiments(world, bpe, network.config.block_size, 0)
        train, held = sets[task]["train"], sets[task]["held_out"][:100]
        right = thinking.is_right_count if task == "letters" else thinking.is_right_comparison
    if task == "letters":
        said = thinking.replies(network, bpe, [q.text for q in held[:60]])
        wrong = [(q, r) for q, r in zip(held, said) if not right(q, r)]
        spelled = [re.search(r"Letters: (.*?)\. The", r) for _, r in wrong]
        misspelled = sum(m is None or "".join(x.split("=")[0] for x in m.group(1).split()) != q.word
                         for (q, _), m in zip(wrong, spelled))
        print(f"sft-work, first 60 held-out questions: {len(wrong)} wrong, {misspelled} of them misspell the word")
    print(f"{start} before:", rates(network, bpe, held, right, tools)[0])
    policy = practised(network, bpe, train, right, lr, steps, tools)
    print("after:", rates(policy, bpe, held, right, tools)[0])


def rates(network, bpe, held: list, right, tools=None) -> tuple[dict, float]:
    """pass@k on `held` (rl.pass_rates), and the share of its greedy replies that spell the word out."""
    out = rl.pass_rates(network, bpe, held, seed=0, right=right, tools=tools)
    replies = out.pop("greedy_replies")
    return out, sum(r.startswith(thinking.SPELLED_START) for r in replies) / len(replies)


def practised(network, bpe, train: list, right, lr: float, steps: int, tools=None):
    """A copy of `network` after GRPO on `train` (reward 1 where `right`), its summary printed."""
    policy = copy.deepcopy(network)
    plan = nanogpt_plan(steps=steps, batch_size=8, lr=lr, warmup=min(6, max(1, steps // 10)), min_lr=lr / 10,
                        weight_decay=0.0, seed=0)
    history = rl.grpo(policy, bpe, train, plan, reward=lambda q, text: float(right(q, text)), reference=network,
                      tools=tools)
    print("over practice:", rl.summary(history))
    return policy


def ingredients(build: str, share: float) -> None:
    """The build's mid-trained model, 200 more steps on 3,000 cards of its own invented dishes (none measured),
    `share` of them asking for the list of ingredients (1: only the list)."""
    mid_model = load(f"{build}/mid", kind="bpe")
    network, bpe, world = mid_model.network, mid_model.tokenizer, make_world(0, "default")
    block = network.config.block_size
    print("before:", reading(network, bpe, world))
    r, conversations = random.Random(1), []
    for dish in working_memory.practice_dishes(world, 9000, 0)[6000:]:  # past the ones mid-training used
        facts = dish_facts(dish)
        listed = next(f for f in facts if f.attribute == "ingredients")
        asked = listed if r.random() < share else r.choice([f for f in facts if f is not listed])
        q = labelers.question(asked, world, r, "pilot")
        prompt = working_memory.card_prompt(q, world, bpe, block, facts=facts)
        conversations.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": q.reply}])
    tuned = copy.deepcopy(network)
    finetune(tuned, bpe, conversations[:-100], conversations[-100:],
             nanogpt_plan(steps=200, batch_size=32, lr=1e-3, min_lr=1e-4, warmup=20, eval_every=100, eval_batches=2,
                          seed=0))
    print(f"after 200 steps on {len(conversations)} cards ({share:.0%} asking for the list):", reading(tuned, bpe, world))


def choose(build: str, lr: float, steps: int, direct_share: float) -> None:
    """Practice that can choose its way of working: sft-choose made again from BUILD/mid (the build's practice
    start, experiments.choose_conversations) with `direct_share` of its words answered at once and the rest
    spelled out first, then GRPO on letter counts at `lr`: pass@k, and the share of greedy replies that spell
    the word, before and after (100 held-out questions)."""
    mid_model = load(f"{build}/mid", kind="bpe")
    bpe, world, preset = mid_model.tokenizer, make_world(0, "default"), PRESETS["cpu"]
    sets = thinking.experiments(world, bpe, preset.block_size, 0)
    train, held = sets["letters"]["train"], sets["letters"]["held_out"][:100]
    start, _ = sft_stage(mid_model.network, bpe, world, preset, 0, bills=0,
                         extra=choose_conversations(sets, direct_share), stage="sft-choose")

    right = thinking.is_right_count
    print("before: %s, greedy replies spelling: %.2f" % rates(start, bpe, held, right))
    policy = practised(start, bpe, train, right, lr, steps)
    print("after: %s, greedy replies spelling: %.2f" % rates(policy, bpe, held, right))


def cards(build: str, codes: int) -> None:
    """sft-cards made again from BUILD/mid as the build now makes it (experiments.sft_card_conversations), with
    `codes` few-shot code conversations: invented dishes read from their card, by attribute, and the kitchen code
    learned in context (k = 0, 1, 2, 4)."""
    mid_model = load(f"{build}/mid", kind="bpe")
    bpe, world, preset = mid_model.tokenizer, make_world(0, "default"), PRESETS["cpu"]
    conversations = sft_card_conversations(world, bpe, preset.block_size, 0, preset.midtrain_per_skill, codes)
    model, _ = sft_stage(mid_model.network, bpe, world, preset, 0, stage="sft-cards",
                         extra=kinded("card", conversations["cards"]) + kinded("few-shot code", conversations["codes"]))
    print(f"sft-cards ({conversations['counts']}) from {build}/mid:", reading(model, bpe, world, n=200))
    print("the kitchen code in context:", working_memory.in_context(model, bpe, world, 200)["by_k"])


def tools(build: str, invented: int | None) -> None:
    """BUILD/sft-tools, and sft-tools made again from BUILD/mid (experiments.sft_tools_conversations, with `invented`
    searches about invented dishes: None, the preset's): held-out facts with the search, where the misses go, bills."""
    mid_model = load(f"{build}/mid", kind="bpe")
    bpe, world, preset = mid_model.tokenizer, make_world(0, "default"), PRESETS["cpu"]
    if invented is not None:
        preset = replace(preset, invented_searches=invented)
    library = library_search(build)
    kitchen = {"calc": calculator_tool, "search": library}
    sets = thinking.experiments(world, bpe, preset.block_size, 0)
    held = labelers.fact_questions(world, 0).held_out
    bills = evaluate.evenly(sets["bills"]["held_out"], preset.max_questions)
    seen = pipeline.fact_mentions(corpus(preset, 0, say=lambda *_: None)["pipeline"].train)  # as the build counts
    extra = sft_tools_conversations(world, 0, library, sets["letters"]["sft"]["calculator"], preset)
    remade, info = sft_stage(mid_model.network, bpe, world, preset, 0, search=library, extra=extra, stage="sft-tools")
    for name, model in ((f"{build}/sft-tools", load(f"{build}/sft-tools", kind="bpe").network),
                        (f"sft-tools made again with {preset.invented_searches} invented searches ({info['counts']})",
                         remade)):
        said = evaluate.ask(model, bpe, [q.text for q in held], tools=kitchen)
        misses: dict[str, int] = {}
        for q, a in zip(held, said):
            if labelers.is_correct(q, a.reply):
                continue
            searches = [c for c in a.calls if c.tool == "search"]
            why = ("no search" if not searches else "the answer not in the result"
                   if not states(q.answer, searches[0].result) else "not copied from the result")
            misses[why] = misses.get(why, 0) + 1
        knowledge = evaluate.knowledge(held, said, seen)
        billed = evaluate.ask(model, bpe, [b.text for b in bills], tools=kitchen)
        print(f"{name}: facts with the search {knowledge['all']}, by how often read {knowledge['by_seen']}, "
              f"misses {misses}, bills with the calculator "
              f"{evaluate.Rate.of([is_right_total(b, a.reply) for b, a in zip(bills, billed)])}")


def spelling(build: str) -> None:
    """BUILD/sft-work on the held-out letter questions (as the build asks them): spelled exactly ("s t r=1 ..."),
    the letters right but the running count wrong, or the letters wrong; right or wrong count in each."""
    model = load(f"{build}/sft-work", kind="bpe")
    held = evaluate.evenly(thinking.experiments(make_world(0, "default"), model.tokenizer, PRESETS["cpu"].block_size, 0)
                           ["letters"]["held_out"], PRESETS["cpu"].max_questions)
    said = thinking.replies(model.network, model.tokenizer, [q.text for q in held])
    found: dict[str, list[bool]] = {}
    for q, reply in zip(held, said):
        letters = re.sub(r"=\d+", "", reply)
        how = ("spelled exactly" if thinking.spelled(q) in reply else
               "letters right, running count wrong" if " ".join(q.word) in letters else "letters wrong")
        found.setdefault(how, []).append(thinking.is_right_count(q, reply))
    print(f"{build}/sft-work, {len(held)} held-out letter questions:",
          {how: f"{len(v)} ({sum(v)} counted right)" for how, v in found.items()})


def pretraining(build: str, out: str, lists: int, steps: int) -> None:
    """The cpu preset's pretraining made again into `out` with `lists` spelling lists and `steps` steps; words
    spelled exactly by BUILD/base and by the new base model."""
    cpu = PRESETS["cpu"]
    preset = replace(cpu, spelling_lists=lists, pretrain=replace(cpu.pretrain, steps=steps))
    Path(out).mkdir(parents=True, exist_ok=False)
    results, state = pretrain_stage("cpu", Path(out), 0, say=lambda *_: None, preset=preset)
    print(f"pretrained {steps} steps on {results['corpus']['train_tokens']} tokens ({results['corpus']['mixed']}); "
          f"held-out loss {results['base']['history']['val'][-1]}")
    base_spelling([build, out])


def base_spelling(builds: list[str]) -> None:
    """Words spelled exactly by each build's base model: 200 training-side words and 200 held-out ones."""
    world = make_world(0, "default")
    training = sorted(thinking.training_words(world, 0))
    random.Random(0).shuffle(training)
    words = {"training-side": training[:200],
             "held-out": [q.word for q in thinking.letter_questions(world, 0, held_out=True)][:200]}
    for build in builds:
        model = load(f"{build}/base", kind="bpe")
        print(f"{build}/base", {side: f"{base_spelled(model, w)} of {len(w)} spelled exactly" for side, w in words.items()})


def base_spelled(model, words: list[str]) -> int:
    """How many of `words` a base model spells exactly, greedy, after the start of a spelling list's line."""
    right = 0
    for w in words:
        prompt = model.tokenizer.encode(f"Spelling list.\nThe word {w} is spelled")
        said = generate(model, prompt, sampler=Sampler(temperature=0), max_new=2 * len(w) + 2)[0]
        right += model.tokenizer.decode(said.text_ids).split(".")[0].strip() == " ".join(w)
    return right


def guest_questions(build: str, out: str, n: int) -> None:
    """Pretraining with n guest question pages, then mid-training and SFT as the build does: knowledge by exposure."""
    preset = replace(PRESETS["cpu"], guest_questions=n)
    Path(out).mkdir(parents=True, exist_ok=False)
    results, state = pretrain_stage("cpu", Path(out), 0, say=lambda *_: None, preset=preset)
    print(f"pretrained on {results['corpus']['train_tokens']} tokens ({results['corpus']['mixed']})")
    bpe, world = state["bpe"], state["world"]
    mid, _ = midtrain_stage(state["base"], bpe, world, preset, 0, library_search=state["search"])
    tuned, _ = sft_stage(mid, bpe, world, preset, 0)
    held = labelers.fact_questions(world, 0).held_out
    known = evaluate.knowledge(held, evaluate.ask(tuned, bpe, [q.text for q in held]), state["seen"])
    print(f"sft, held-out facts from memory: all {known['all']}, by how often read {known['by_seen']}")
    own = json.loads((Path(build) / "report.json").read_text(encoding="utf-8"))["knowledge"]["sft"]
    print(f"{build}/sft (its report): all {own['all']}, by how often read {own['by_seen']}")


def closed_book(build: str, n: int) -> None:
    """BUILD/base mid-trained with n closed-book questions about taught facts, then SFT: knowledge by exposure."""
    base = load(f"{build}/base", kind="bpe")
    network, bpe, world, preset = copy.deepcopy(base.network), base.tokenizer, make_world(0, "default"), PRESETS["cpu"]
    library = library_search(build)
    info = midtrain(network, bpe, world, replace(preset.midtrain, seed=0), 0, preset.midtrain_per_skill,
                    preset.search_chars, library_search=library, closed_book=n, comparisons=preset.midtrain_comparisons)
    print("mid-training:", info["counts"])
    tuned, _ = sft_stage(network, bpe, world, preset, 0)
    held = labelers.fact_questions(world, 0).held_out
    seen = pipeline.fact_mentions(corpus(preset, 0, say=lambda *_: None)["pipeline"].train)  # as this code's build
    known = evaluate.knowledge(held, evaluate.ask(tuned, bpe, [q.text for q in held]), seen)
    print(f"sft from it, held-out facts from memory: all {known['all']}, by how often read {known['by_seen']}")


def cloze(builds: list[str]) -> None:
    """The base models' recall of held-out facts in the documents' own words, by how often they were read."""
    world = make_world(0, "default")
    held = labelers.fact_questions(world, 0).held_out
    for build in builds:
        report = json.loads((Path(build) / "report.json").read_text(encoding="utf-8"))
        mixed = report["corpus"]["mixed"]  # the build's own corpus: its documents and its split
        preset = replace(PRESETS["cpu"], spelling_lists=mixed.get("spelling lists", 0),
                         order_slips=mixed.get("order slips", 0), guest_questions=mixed.get("guest questions", 0))
        cleaned = corpus(preset, 0)["pipeline"]  # says so when tinyshakespeare is not found (then the split differs)
        seen = pipeline.fact_mentions(cleaned.train)
        base = load(f"{build}/base", kind="bpe")
        recalled = []
        for q in held:
            first = q.answer.split(", ")[0]  # a list: its first item
            doc = next((d for d in cleaned.train if q.fact_id in d.facts and first in d.text), None)
            if doc is None:  # read only in validation documents, or never: nothing to go on from
                recalled.append(False)
                continue
            prefix = base.tokenizer.encode(doc.text[:doc.text.index(first)].rstrip(" "))[-96:]
            out = generate(base, prefix, sampler=Sampler(temperature=0), max_new=8)[0]
            recalled.append(states(first, base.tokenizer.decode(out.text_ids)))
        groups = [evaluate.seen_group(seen.get(q.fact_id, 0)) for q in held]
        by = {g: evaluate.Rate.of([r for r, h in zip(recalled, groups) if h == g]) for g in sorted(set(groups))}
        print(f"{build}/base goes on with the value: all {evaluate.Rate.of(recalled)}, by how often read {by}")
        print(f"{build}/sft answers the held-out questions (its report):",
              {g: f"{r['share']:.0%} (n={r['n']})" for g, r in report["knowledge"]["sft"]["by_seen"].items()})


def recall(build: str) -> None:
    """The search tool alone: on the held-out fact questions the build asks, is the answer in the result? By attribute."""
    library = library_search(build)
    found: dict[str, list[bool]] = {}
    for q in evaluate.evenly(labelers.fact_questions(make_world(0, "default"), 0).held_out, PRESETS["cpu"].max_facts):
        found.setdefault(q.fact_id.split(":")[0], []).append(states(q.answer, library(q.text)))
    print("the answer in the search's result:", sum(sum(v) for v in found.values()), "of",
          sum(len(v) for v in found.values()), {k: f"{sum(v)}/{len(v)}" for k, v in found.items()})


def sft_and_held_prompts(build: str):
    """BUILD/sft, its tokenizer and world, and the held-out prompts its held-out pairs and prompts come from,
    drawn as the build draws them."""
    sft_model = load(f"{build}/sft", kind="bpe")
    network, bpe, world, preset = sft_model.network, sft_model.tokenizer, make_world(0, "default"), PRESETS["cpu"]
    held_pool = preference.preference_prompts(world, 0, True, max(preset.held_per_kind, preset.held_pairs_per_kind),
                                              smalltalk.pairs() if smalltalk.available() else [], bpe,
                                              network.config.block_size)
    return network, bpe, world, held_pool


def critic(build: str, per_kind: int, steps: int, seeds: int = 1) -> None:
    """The reward model from BUILD/sft on the pairs of `per_kind` training prompts of each kind (best against
    worst), on the first half of them, and on every pair of differently scored answers to a prompt (the same
    answers), each trained `steps` steps as the preset trains it; held-out pairs drawn as the build draws them.
    With seeds > 1: the whole set and every pair only, each trained that many times (seeds 0, 1, ...) on the same
    pairs, so the spread of its accuracy is training's own, not the pairs'."""
    network, bpe, world, held_pool = sft_and_held_prompts(build)
    held = preference.sample_pairs(network, bpe, held_pool, seed=1, tools={"calc": calculator_tool}).pairs
    sampled = training_pairs(network, bpe, world, 0, per_kind)
    found, every = sampled.pairs, sampled.every_pair()
    by_kind: dict[str, list] = {}
    for pair in found:
        by_kind.setdefault(pair.prompt.kind, []).append(pair)
    half = [pair for pairs in by_kind.values() for pair in pairs[:len(pairs) // 2]]
    print(f"held-out pairs {len(held)}; shorter is better {preference.shorter_is_chosen(held)}")
    sets = [(f"half of {per_kind} a kind", half, 0)] if seeds == 1 else []
    for seed in range(seeds):
        sets += [(f"{per_kind} a kind, seed {seed}", found, seed), (f"every pair, seed {seed}", every, seed)]
    for name, train, seed in sets:
        rm = reward_model(network)
        train_reward_model(rm, bpe, train, replace(PRESETS["cpu"].reward, steps=steps, seed=seed))
        print(f"{name}: {len(train)} training pairs, reward model right on {pair_accuracy(rm, bpe, held)}")


def dpo_pilot(build: str, nll: float, per_kind: int) -> None:
    """DPO from BUILD/sft on the pairs of `per_kind` training prompts of each kind, at nll 0 and `nll`: the win
    rate over SFT on the build's held-out prompts, and what each criterion of the rubric does."""
    network, bpe, world, held_pool = sft_and_held_prompts(build)
    tools = {"calc": calculator_tool}
    held = preference.first_of_each_kind(held_pool, PRESETS["cpu"].held_per_kind)
    train = training_pairs(network, bpe, world, 0, per_kind).pairs
    sft_replies = dpo.greedy_replies(network, bpe, held, tools=tools)
    for weight in (0.0, nll):
        tuned, _ = dpo.dpo(network, bpe, train, replace(PRESETS["cpu"].dpo, seed=0), nll=weight)
        won = dpo.win_rate(tuned, network, bpe, held, tools=tools, sft_replies=sft_replies)
        print(f"nll {weight:g}: {len(train)} pairs, win rate {won['win_rate']} ({won['wins']} won, {won['losses']} "
              f"lost, {won['ties']} tied); criteria, SFT → DPO:",
              {k: f"{won['criteria']['sft'][k].share:.2f} → {won['criteria']['tuned'][k].share:.2f}"
               for k in won["criteria"]["sft"]})


def sft_rate(build: str, lr: float) -> None:
    """sft-short and sft-work made again from the build's mid-trained model at another SFT learning rate."""
    mid_model = load(f"{build}/mid", kind="bpe")
    bpe, world = mid_model.tokenizer, make_world(0, "default")
    preset = PRESETS["cpu"]
    preset = replace(preset, sft=replace(preset.sft, lr=lr, min_lr=lr / 10))
    sets = thinking.experiments(world, bpe, preset.block_size, 0)
    for stage, (_, letter, compare) in THINKING_VARIANTS.items():
        model, _ = sft_stage(mid_model.network, bpe, world, preset, 0, bills=0,
                             extra=thinking_conversations(sets, stage), stage=stage)
        letters = thinking.measure_letters(model, bpe, sets["letters"]["held_out"][:150], letter)
        compared = thinking.measure_comparisons(model, bpe, sets["comparisons"]["held_out"][:150], compare)
        print(f"SFT at lr {lr:g}, {stage}: letters {letters['all']}, names one of the two numbers "
              f"{compared['names_one']}, right pick {compared['all']}")


def comparisons(build: str, n: int, midtrain_n: int | None, midtrain_steps: int | None) -> None:
    """sft-short and sft-work made again with `n` training comparisons (the build's 600), from BUILD/mid or, with
    `midtrain_n`, from BUILD/base mid-trained again with that many comparisons (and `midtrain_steps` steps), asked
    the build's 200 held-out comparisons (named, picked right, by kind) and letter questions: do more comparisons
    crowd out the letters?"""
    preset, world = PRESETS["cpu"], make_world(0, "default")
    if midtrain_n is None:
        mid_model = load(f"{build}/mid", kind="bpe")
        network, bpe = mid_model.network, mid_model.tokenizer
    else:
        base = load(f"{build}/base", kind="bpe")
        bpe = base.tokenizer
        library = library_search(build)
        preset = replace(preset, midtrain_comparisons=midtrain_n,
                         midtrain=replace(preset.midtrain, steps=midtrain_steps or preset.midtrain.steps))
        network, info = midtrain_stage(base.network, bpe, world, preset, 0, library_search=library)
        print(f"mid-trained again from {build}/base, {preset.midtrain.steps} steps:", info["counts"],
              "held-out loss", info["history"]["val"][-1])
    report = json.loads((Path(build) / "report.json").read_text(encoding="utf-8"))
    shown = build_report.rate
    sets = thinking.experiments(world, bpe, preset.block_size, 0, n_comparisons=(n, 200))
    held = {task: evaluate.evenly(sets[task]["held_out"], preset.max_questions) for task in ("letters", "comparisons")}
    for stage, (_, letter, compare) in THINKING_VARIANTS.items():
        built = {task: build_report.rates(report["thinking"][stage][task]) for task in ("letters", "comparisons")}
        print(f"BUILD/{stage}: letters {shown(built['letters']['all'])}, comparisons: names one "
              f"{shown(built['comparisons']['names_one'])}, right {shown(built['comparisons']['all'])}")
        model, _ = sft_stage(network, bpe, world, preset, 0, bills=0, extra=thinking_conversations(sets, stage),
                             stage=stage)
        letters = thinking.measure_letters(model, bpe, held["letters"], letter)
        got = thinking.measure_comparisons(model, bpe, held["comparisons"], compare)
        print(f"{stage} with {n} comparisons: letters {shown(letters['all'])}, comparisons: names one "
              f"{shown(got['names_one'])}, right {shown(got['all'])}; by kind",
              {k: shown(v) for k, v in got["by_kind"].items()})


def larger_n(build: str, n: int, per_kind: int) -> None:
    """The reward model trained from BUILD/sft as the build trains it, then best-of-n up to `n` on the first
    `per_kind` held-out prompts of each kind: does the rubric keep rising with the proxy past the build's n = 8?"""
    network, bpe, world, held_pool = sft_and_held_prompts(build)
    preset = PRESETS["cpu"]
    train = training_pairs(network, bpe, world, 0, preset.per_kind).pairs
    rm = reward_model(network)
    train_reward_model(rm, bpe, train, replace(preset.reward, seed=0))
    held = preference.first_of_each_kind(held_pool, per_kind)
    ns = tuple(2 ** i for i in range(n.bit_length()) if 2 ** i <= n)
    found = best_of_n(network, bpe, held, reward_function(rm, bpe), ns=ns, seed=0, tools={"calc": calculator_tool})
    print(f"{len(train)} training pairs; best-of-n on {len(held)} held-out prompts:")
    for k, got in found.items():
        print(f"n = {k}: reward model's score {got['reward']:.2f}, rubric {build_report.rate(got['rubric'])}, "
              f"answers {build_report.rate(got['answers'])}")


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (0 pages, answers or prompts measure nothing)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pilot", choices=("mid", "practice", "choose", "ingredients", "cards", "sft-rate", "recall", "tools",
                                          "spelling", "critic", "dpo", "pretrain", "cloze",
                                          "closed-book", "guest-questions", "base-spelling", "comparisons", "best-of-n"))
    parser.add_argument("build", help="a finished `omakase assistant build --preset cpu` folder")
    parser.add_argument("out", nargs="*", help="pretrain: a new folder for the corpus, tokenizer and base model; "
                                               "cloze: more build folders")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--spelling-lists", type=int, default=None, help="pretrain: spelling lists (the preset's)")
    parser.add_argument("--closed-book", type=int, default=3000, help="closed-book: questions answered from memory")
    parser.add_argument("--guest-questions", type=int, default=3000, help="guest-questions: pages in pretraining")
    parser.add_argument("--comparisons", type=positive, default=2400, help="comparisons: training comparisons in SFT")
    parser.add_argument("--midtrain-comparisons", type=positive, default=None,
                        help="comparisons: mid-train BUILD/base again with that many comparisons (default: BUILD/mid)")
    parser.add_argument("--n", type=positive, default=32, help="best-of-n: the largest n (powers of two up to it)")
    parser.add_argument("--lr", type=float, default=None, help="practice: 3e-5 (the preset's); sft-rate: 3e-4")
    parser.add_argument("--task", choices=("letters", "comparisons", "facts"), default="letters")
    parser.add_argument("--per-kind", type=positive, default=None,
                        help="critic, dpo: training prompts of each kind (400); best-of-n: held-out ones (50)")
    parser.add_argument("--seeds", type=positive, default=1,
                        help="critic: train the reward model this many times on the same pairs (seeds 0, 1, ...)")
    parser.add_argument("--codes", type=int, default=None, help="cards: few-shot code conversations (the build's)")
    parser.add_argument("--invented", type=int, default=None, help="tools: searches about invented dishes (the preset's)")
    parser.add_argument("--nll", type=float, default=1.0, help="dpo: the weight of the chosen replies' likelihood")
    parser.add_argument("--share", type=float, default=None,
                        help="ingredients: the share of cards asking for the list (1); choose: of letters answered at once (0.5)")
    args = parser.parse_args()
    try:  # a missing or unfinished build folder: its one line, not a traceback
        if args.pilot == "mid":
            mid(args.build, args.steps or 1000)
        elif args.pilot == "practice":
            practice(args.build, args.task, args.lr or 3e-5, args.steps or 60)
        elif args.pilot == "choose":
            choose(args.build, args.lr or 1e-4, args.steps or 60, 0.5 if args.share is None else args.share)
        elif args.pilot == "cards":
            cards(args.build, SIBLING_CODES if args.codes is None else args.codes)
        elif args.pilot == "tools":
            tools(args.build, args.invented)
        elif args.pilot == "spelling":
            spelling(args.build)
        elif args.pilot == "pretrain":
            if len(args.out) != 1:
                parser.error("pretrain needs OUT, a new folder")
            pretraining(args.build, args.out[0],
                        PRESETS["cpu"].spelling_lists if args.spelling_lists is None else args.spelling_lists,
                        args.steps or PRESETS["cpu"].pretrain.steps)
        elif args.pilot == "guest-questions":
            if len(args.out) != 1:
                parser.error("guest-questions needs OUT, a new folder")
            guest_questions(args.build, args.out[0], args.guest_questions)
        elif args.pilot == "closed-book":
            closed_book(args.build, args.closed_book)
        elif args.pilot == "base-spelling":
            base_spelling([args.build] + args.out)
        elif args.pilot == "cloze":
            cloze([args.build] + args.out)
        elif args.pilot == "recall":
            recall(args.build)
        elif args.pilot == "best-of-n":
            larger_n(args.build, args.n, args.per_kind or 50)
        elif args.pilot == "comparisons":
            comparisons(args.build, args.comparisons, args.midtrain_comparisons, args.steps)
        elif args.pilot == "sft-rate":
            sft_rate(args.build, args.lr or 3e-4)
        elif args.pilot == "dpo":
            dpo_pilot(args.build, args.nll, args.per_kind or 400)
        elif args.pilot == "critic":
            critic(args.build, args.per_kind or 400, args.steps or PRESETS["cpu"].reward.steps, args.seeds)
        else:
            ingredients(args.build, 1.0 if args.share is None else args.share)
    except (OmakaseError, FileNotFoundError) as e:  # a build folder that lacks what the pilot reads
        parser.exit(2, f"{parser.prog}: error: {e}\n")
