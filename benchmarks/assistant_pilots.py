"""The pilots of docs/assistant.md ("Pilots of this run's levers"), each from a finished build's folder.

    python benchmarks/assistant_pilots.py mid BUILD [--steps 600]      the base model mid-trained on the five skills,
                                                                       asked held-out facts with the search, letters,
                                                                       comparisons and cards; BUILD/mid beside it
    python benchmarks/assistant_pilots.py practice BUILD --lr 1e-4 --steps 60
                                                                       GRPO from sft-work on letter counts: pass@k
                                                                       before and after, and the wrong answers' spellings
    python benchmarks/assistant_pilots.py ingredients BUILD            the mid-trained model, 200 more steps on
                                                                       ingredient-only cards: reading by attribute

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

from omakase.assistant.data import labelers
from omakase.assistant.data.world import dish_facts, make_world
from omakase.assistant.measure import evaluate
from omakase.assistant.measure.build import PRESETS
from omakase.assistant.skills import thinking, working_memory
from omakase.assistant.skills.calculator import calculator_tool
from omakase.assistant.skills.search import LIBRARY, search_tool
from omakase.assistant.stages import rl
from omakase.assistant.stages.midtrain import midtrain
from omakase.assistant.stages.sft import finetune
from omakase.model.load import load
from omakase.plan import nanogpt_plan


def reading(network, bpe, world, n: int = 150) -> dict:
    r = working_memory.reading(network, bpe, world, n, 0)
    return {"all": r["all"], **r["by_attribute"]}


def mid(build: str, steps: int) -> None:
    """The build's base model mid-trained as the code now does, measured; then the build's own `mid` beside it."""
    base = load(f"{build}/base", kind="bpe")
    network, bpe, world = copy.deepcopy(base.network), base.tokenizer, make_world(0, "default")
    plan = replace(PRESETS["cpu"].midtrain, steps=steps, seed=0)
    library = search_tool(json.loads((Path(build) / LIBRARY).read_text(encoding="utf-8")),
                          max_chars=PRESETS["cpu"].search_chars)
    info = midtrain(network, bpe, world, plan, 0, PRESETS["cpu"].midtrain_per_skill, PRESETS["cpu"].search_chars,
                    library_search=library)
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


def practice(build: str, lr: float, steps: int) -> None:
    work = load(f"{build}/sft-work", kind="bpe")
    network, bpe, world = work.network, work.tokenizer, make_world(0, "default")
    sets = thinking.experiments(world, bpe, network.config.block_size, 0)
    train, held = sets["letters"]["train"], sets["letters"]["held_out"][:100]
    right = thinking.is_right_count
    said = thinking.replies(network, bpe, [q.text for q in held[:60]])
    wrong = [(q, r) for q, r in zip(held, said) if not right(q, r)]
    spelled = [re.search(r"Letters: (.*?)\. The", r) for _, r in wrong]
    misspelled = sum(m is None or "".join(x.split("=")[0] for x in m.group(1).split()) != q.word
                     for (q, _), m in zip(wrong, spelled))
    print(f"sft-work, first 60 held-out questions: {len(wrong)} wrong, {misspelled} of them misspell the word")
    print("before:", rl.pass_rates(network, bpe, held, seed=0, right=right))
    policy = copy.deepcopy(network)
    plan = nanogpt_plan(steps=steps, batch_size=8, lr=lr, warmup=6, min_lr=lr / 10, weight_decay=0.0, seed=0)
    history = rl.grpo(policy, bpe, train, plan, reward=lambda q, text: float(right(q, text)), reference=network)
    print("after:", rl.pass_rates(policy, bpe, held, seed=0, right=right))
    print("over practice:", rl.summary(history))


def ingredients(build: str) -> None:
    mid_model = load(f"{build}/mid", kind="bpe")
    network, bpe, world = mid_model.network, mid_model.tokenizer, make_world(0, "default")
    block = network.config.block_size
    print("before:", reading(network, bpe, world))
    r, conversations = random.Random(1), []
    for dish in working_memory.practice_dishes(world, 9000, 0)[6000:]:  # past the ones mid-training used
        facts = dish_facts(dish)
        q = labelers.question(next(f for f in facts if f.attribute == "ingredients"), world, r, "pilot")
        prompt = working_memory.card_prompt(q, world, bpe, block, facts=facts)
        conversations.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": q.reply}])
    tuned = copy.deepcopy(network)
    finetune(tuned, bpe, conversations[:-100], conversations[-100:],
             nanogpt_plan(steps=200, batch_size=32, lr=1e-3, min_lr=1e-4, warmup=20, eval_every=100, eval_batches=2,
                          seed=0))
    print("after 200 steps on", len(conversations), "ingredient-only cards:", reading(tuned, bpe, world))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pilot", choices=("mid", "practice", "ingredients"))
    parser.add_argument("build", help="a finished `omakase assistant build --preset cpu` folder")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--lr", type=float, default=3e-5)
    args = parser.parse_args()
    if args.pilot == "mid":
        mid(args.build, args.steps or 600)
    elif args.pilot == "practice":
        practice(args.build, args.lr, args.steps or 60)
    else:
        ingredients(args.build)
