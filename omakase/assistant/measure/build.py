"""Every stage, from the kitchen's internet to an assistant, with every measurement: `omakase assistant build`.

    corpus      the world, its documents and real text, through the pipeline (pipeline.py);
                the restaurant's documents saved as OUT/library.json for the search tool
    tokenizer   BPE trained on the cleaned training documents (../bpe.py), chat and tool tokens included
    base        the base model pretrained on them (pretrain.py)            -> OUT/base
    mid         the base model mid-trained on generated conversations of every skill
                (midtrain.py); every SFT model below starts from it        -> OUT/mid
    sft         the mid-trained model fine-tuned on the labelers' conversations -> OUT/sft
    idk         probed, "I don't know" taught for what it got wrong          -> OUT/sft-idk
    identity    fine-tuned under another name, and with no identity at all (measured, not saved)
    experiments tools, working memory, tokens to think, practice and the critics (experiments.py)
                -> OUT/sft-tools, OUT/sft-cards, OUT/sft-short, OUT/sft-work, OUT/sft-choose, OUT/rl, OUT/dpo
    digits      the corpus, base, mid and sft-short again with every digit a token of its own, asked the
                same comparisons (digits_experiment)                       -> OUT/digits

Each stage returns plain data; `build` gathers it into one results dict (report.py
writes report.json and report.md from it). Each finished step is kept (Steps), so an
interrupted build resumes from the last one. `PRESETS` holds the sizes: "quick" is
toy-sized for tests and a first look (the effects need not show), "cpu" is the
laptop run (docs/assistant.md), "gpu" a bigger one for a CUDA machine.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

from ... import data
from ...config import GPTConfig, count_params
from ...engines.torch import pick_device
from ...timing import machine
from ...errors import OmakaseError
from ...files import atomic_write_text
from . import evaluate, experiments
from ..data import labelers, pipeline, smalltalk, tokenview
from ...model import save as save_stage
from ...engines.torch import init_gpt
from ..skills import thinking
from ..data.bills import bill_conversations, bill_questions
from ..skills.chat_format import SPECIALS
from ..data.documents import write_documents
from ..data.order_slips import order_slips
from ..data.guest_questions import guest_question_pages
from ..data.spelling_lists import spelling_lists
from ...plan import Plan, nanogpt_plan
from ..stages.pretrain import pretrain
from ..stages.midtrain import midtrain
from ..stages.sft import finetune
from ..skills.reply import continue_text, reply
from ..skills.search import LIBRARY, search_tool
from ..skills.tools import TOOL_SPECIALS, search_answer
from ..data.world import make_world


@dataclass(frozen=True)
class Preset:
    world: str  # world.make_world's size
    shakespeare: bool  # mix tinyshakespeare in (when it is on this machine or can be downloaded)
    vocab_size: int
    n_layer: int
    n_embd: int
    n_head: int
    block_size: int
    pretrain: Plan
    sft: Plan
    probe_samples: int = 3
    max_questions: int | None = None  # per measured set (None: all); quick runs measure fewer
    # held-out fact questions (None: all). Knowledge by exposure splits them into four buckets of how often a fact
    # was read: 200 gave ~50 a bucket, too few to tell 16% from 4% (the ac4b703 cpu run); the world holds 339
    max_facts: int | None = None
    bills: int = 300  # training bills in the SFT set (answered without tools, or with the calculator)
    search_chars: int = 240  # a search result's length: it must fit the block beside the question and answer
    # GRPO (rl.py) from sft-choose at lr 1e-4 (3e-5 moved sft-work 2 points): 60 steps took the 489375f cpu run's
    # pass@1 from 48% to 63%, 120 steps a pilot on it from 46% to 65% (docs/assistant.md); at 120 steps five cpu
    # runs rose 16.9, 11.8, 10.4, 18.5 and 13.8 points; at 240 the runs of 84dd501 and 571dfee 16.4 and 19.5
    practice: Plan = field(default_factory=lambda: nanogpt_plan(steps=240, batch_size=8, lr=1e-4, warmup=12, min_lr=1e-5,
                                                        weight_decay=0.0))
    reward: Plan = field(default_factory=lambda: nanogpt_plan(steps=150, batch_size=32, lr=1e-3, warmup=10, min_lr=1e-4))
    dpo: Plan = field(default_factory=lambda: nanogpt_plan(steps=100, batch_size=16, lr=1e-4, warmup=10, min_lr=1e-5,
                                                   weight_decay=0.0))
    per_kind: int = 60  # training prompts of each kind (about 4 in 10 give a pair: the critics' training pairs)
    held_per_kind: int | None = None  # held-out prompts of each kind for the win rate and best-of-n (None: per_kind)
    held_pairs_per_kind: int = 170  # held-out prompts of each kind sampled for held-out pairs (about 4 in 10 give one)
    # DPO's loss adds the chosen replies' per-token NLL at this weight (dpo.py): plain DPO lost to SFT (win rate
    # 46%, answers 41% -> 27%), with it 54% and answers kept (a pilot on the ac4b703 cpu run: docs/assistant.md)
    dpo_nll: float = 1.0
    # searches about invented dishes in sft-tools' set (experiments.sft_tools_conversations), which only the result
    # can answer: a taught fact's search can be answered from the weights, and the 9aa73ea cpu run's sft-tools did so
    # on 98 of the 257 held-out questions whose result stated the answer ("The steamed plum prawn stew comes from
    # Zennor Cove." -> "... comes from Aldermoor."). Pilots on that run's mid (`tools`): held-out facts right with the
    # search 48% -> 53% (400 of them), 60% (1,000), 62% (2,000)
    invented_searches: int = 1000
    practice_kl: float = 0.0  # GRPO's KL coefficient to the SFT model (0: the KL is measured, not penalized)
    practice_task: str = "letters"  # experiments.PRACTICE_TASKS: where the start's pass@8 leaves GRPO something to learn
    split_digits: bool = False  # the tokenizer gives every digit a token of its own (bpe.SPLIT_DIGITS)
    order_slips: int = 0  # copy-pressure documents in pretraining (order_slips.py), on top of the world's
    spelling_lists: int = 0  # documents that spell training-side words letter by letter (spelling_lists.py)
    guest_questions: int = 0  # pages of taught facts asked in a guest's words (guest_questions.py)
    midtrain: Plan | None = None  # mid-training between base and SFT (midtrain.py); None: SFT starts from the base
    midtrain_per_skill: int = 3000  # generated conversations of each skill (fewer where the world holds fewer)
    midtrain_comparisons: int | None = None  # mid-training's comparisons (None: midtrain_per_skill)


PRESETS = {
    "quick": Preset("small", False, 512, 2, 64, 4, 96,
                    nanogpt_plan(steps=300, batch_size=16, lr=3e-3, warmup=30, eval_every=100, eval_batches=2),
                    nanogpt_plan(steps=150, batch_size=16, lr=1e-3, min_lr=1e-4, warmup=10, eval_every=50, eval_batches=2),
                    probe_samples=2, max_questions=40, max_facts=40, bills=100, search_chars=120,
                    practice=nanogpt_plan(steps=3, batch_size=4, lr=1e-4, warmup=1, min_lr=1e-5, weight_decay=0.0),
                    reward=nanogpt_plan(steps=20, batch_size=16, lr=1e-3, warmup=2, min_lr=1e-4),
                    dpo=nanogpt_plan(steps=20, batch_size=16, lr=1e-4, warmup=2, min_lr=1e-5, weight_decay=0.0), per_kind=10,
                    held_pairs_per_kind=10, order_slips=300, spelling_lists=30, guest_questions=100, midtrain_per_skill=300,
                    invented_searches=100,  # its SFT set has 100 bills: 1,000 searches taught it to search for a bill
                    midtrain=nanogpt_plan(steps=60, batch_size=16, lr=1e-3, min_lr=1e-4, warmup=6, eval_every=30,
                                          eval_batches=2)),
    # pretraining: 1,800 steps on a corpus with 2,400 spelling lists (36,000 spellings). The 1bab550 run's base
    # (900 steps, 600 lists) spelled 55 of 200 held-out words exactly, this pretraining (the `pretrain` pilot) 190
    "cpu": Preset("default", True, 2048, 4, 160, 4, 128,
                  nanogpt_plan(steps=1800, batch_size=32, lr=3e-3, warmup=50, eval_every=300, eval_batches=8),
                  nanogpt_plan(steps=200, batch_size=32, lr=1e-3, min_lr=1e-4, warmup=20, eval_every=50, eval_batches=4),
                  max_questions=200, order_slips=3000,  # ~200 questions a set: the intervals need no more
                  spelling_lists=2400,
                  # sft answered held-out facts from memory about 10% at every exposure (the 2306ea1 run); with these
                  # pages in pretraining, 8% (read once) to 26% (30 times), intervals apart (the `guest-questions` pilot);
                  # the run of 37a6148: 8% and 23%, the intervals touching. With 4,000 the run of 84dd501 measured 8%
                  # and 12%, and the same code's pretraining made again with 2,000 (the pilot) 8% and 23%; the run of
                  # 216239d, with 2,000 and mid-trained twice as long (below), 8% and 10%; the same recipe's run of
                  # 571dfee 8% and 20%
                  guest_questions=2000,
                  # training prompts: about 4 in 10 give a pair; the reward model ranked 73% of held-out pairs right
                  # from the 4816f23 run's 672 pairs (400 a kind, 150 steps), 80% from 935 (600 a kind, 300 steps: a
                  # pilot on that run); the runs of 600 a kind: 69% (9aa73ea, 940 pairs), 74% (1bab550, 961 pairs).
                  # Past 900 only bills grow (the training side holds 852 fact questions, 568 small-talk questions
                  # and 593 harmful requests): 1,800 a kind gave 1,189 pairs, not twice 1,088 (the `critic` pilot).
                  # Held-out prompts stay 200 a kind
                  per_kind=900, held_per_kind=200,
                  reward=nanogpt_plan(steps=300, batch_size=32, lr=1e-3, warmup=10, min_lr=1e-4),
                  # "which is bigger" named one of the two numbers 79% (sft-short of the 84dd501 run); mid-trained
                  # again with 12,000 comparisons for 1,500 steps 89% [84%, 93%], with 24,000 for 2,000 steps 92% [88%,
                  # 96%], the letters spelled out first 76% -> 80% (the `comparisons` pilot); the runs of 216239d and
                  # 571dfee 94% and 96%. The steps grow with the set, so the other skills are read about as often as
                  # with 1,000 steps and 3,000 comparisons; 170 more for the 3,000 few-shot code conversations
                  # (midtrain.py's `codes`), which took a mid-trained cpu base from k = 0 0% to k = 1 83%, k = 4 86% on
                  # the kitchen code (its word order trained nowhere; docs/assistant.md, "Pilots")
                  midtrain_comparisons=24000,
                  midtrain=nanogpt_plan(steps=2170, batch_size=32, lr=1e-3, min_lr=1e-4, warmup=20, eval_every=500,
                                        eval_batches=4)),
    "gpu": Preset("default", True, 4096, 8, 384, 6, 256,
                  nanogpt_plan(steps=6000, batch_size=64, lr=1e-3, warmup=200, eval_every=500, eval_batches=8),
                  nanogpt_plan(steps=600, batch_size=64, lr=3e-4, min_lr=3e-5, warmup=20, eval_every=100, eval_batches=4),
                  order_slips=30000, spelling_lists=6000, guest_questions=20000, per_kind=900, midtrain_per_skill=20000,
                  midtrain_comparisons=36000,  # about all the training pairs of the 9.11 kind (comparison_questions)
                  reward=nanogpt_plan(steps=300, batch_size=32, lr=1e-3, warmup=10, min_lr=1e-4),
                  # 15% more steps than before the 20,000 few-shot code conversations, as the cpu preset grew
                  midtrain=nanogpt_plan(steps=2870, batch_size=64, lr=3e-4, min_lr=3e-5, warmup=50, eval_every=250,
                                        eval_batches=4)),
}
OTHER_NAME = "Hana"  # the identity the "knowledge of self" experiment fine-tunes in instead of Ming
MENU_START = "Tonight's menu"  # the base model, given the start of a menu page, should continue a menu page


def corpus(preset: Preset, seed: int, say=print) -> dict:
    """The world, its documents (+ Shakespeare), through the pipeline; characters counted for now."""
    world = make_world(seed, preset.world)
    documents = write_documents(world, seed)
    mixed = {"restaurant": len(documents)}
    if preset.order_slips:  # copy pressure: documents only their own context predicts (order_slips.py)
        slips = order_slips(world, preset.order_slips, seed)
        documents = documents + slips
        mixed["order slips"] = len(slips)
    if preset.spelling_lists:  # the letters inside the pieces: text that spells words out (spelling_lists.py)
        lists = spelling_lists(thinking.training_words(world, seed), preset.spelling_lists, seed)
        documents = documents + lists
        mixed["spelling lists"] = len(lists)
    if preset.guest_questions:  # question-and-answer text about the taught facts (guest_questions.py)
        pages = guest_question_pages(world, preset.guest_questions, seed)
        documents = documents + pages
        mixed["guest questions"] = len(pages)
    if preset.shakespeare:
        try:
            text = data.read_text(data.resolve("shakespeare"))
            real = pipeline.real_text_documents(text)
            documents = documents + real
            mixed["shakespeare"] = len(real)
        except OmakaseError as e:
            say(f"tinyshakespeare is not mixed in: {e}")
    result = pipeline.run_pipeline(documents, seed)
    return {"world": world, "documents": documents, "pipeline": result, "mixed": mixed}


def conversations(world, seed: int, name: str = "Ming", identity: bool = True, idk=(), bills: int = 0,
                  search=None, extra=()) -> dict:
    """The labelers' SFT set, with small talk from chatterbot-corpus when it is installed, and `bills`
    bill questions. With a `search` tool the labelers use the tools: taught facts are looked up first
    (where the search finds them) and bills are added up by the calculator; the questions are the same.
    `extra`: more (kind, [(user, assistant), ...]) conversations, an experiment's own (experiments.kinded)."""
    pairs = smalltalk.pairs() if smalltalk.available() else []
    billed = bill_conversations(bill_questions(world, seed, n=bills), calculator=search is not None) if bills else []
    extra = [("bill", [(c[0]["content"], c[1]["content"])]) for c in billed] + list(extra)
    answer = (lambda q: search_answer(q, search)) if search is not None else None
    return labelers.sft_conversations(world, seed, name=name, smalltalk_pairs=pairs, idk=idk, identity=identity,
                                      answer=answer, extra=extra)


def preset_of(name: str) -> Preset:
    if name not in PRESETS:
        raise OmakaseError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def pretrain_stage(preset_name: str, out, seed: int = 0, tick=None, say=print,
                   preset: Preset | None = None) -> tuple[dict, dict]:
    """The corpus, the tokenizer and the base model, written into `out` (tokenizer.json, tokens.html, base/).

    Returns (results, state): the measured numbers, and what the later stages read
    (the world, the base model, the tokenizer, the facts' training mentions).
    preset: the named preset changed (a pilot's; None: PRESETS[preset_name] as it is).
    """
    preset = preset or preset_of(preset_name)
    tick = tick or (lambda stage, done, total: None)
    results: dict = {"preset": preset_name, "seed": seed}
    c = corpus(preset, seed, say)
    world, cleaned = c["world"], c["pipeline"]
    train_texts = [d.text for d in cleaned.train]
    seen = pipeline.fact_mentions(cleaned.train)  # fact id -> training documents that state it
    bpe = _tokenizer(train_texts, preset.vocab_size, tick, preset.split_digits)
    counted = pipeline.run_pipeline(c["documents"], seed, count_tokens=bpe.encode)  # the same steps, in tokens
    results["corpus"] = {"mixed": c["mixed"], "steps": counted.steps, "quality_reasons": counted.quality_reasons,
                         "train_tokens": counted.steps[-2]["tokens"], "val_tokens": counted.steps[-1]["tokens"],
                         "mentions": _mentions_by_bucket(world, seen)}
    # what the search tool reads: every kept restaurant document (validation ones too: a search finds what
    # the model never read), saved for `assistant chat`
    library = [d.text for d in cleaned.train + cleaned.val if d.kind not in ("shakespeare", "slip", "receipt", "questions")]
    (out / LIBRARY).write_text(json.dumps(library), encoding="utf-8")
    strawberry = tokenview.strawberry(bpe)
    results["tokenizer"] = {"vocab_size": bpe.vocab_size, "merges": len(bpe.merges), "split_digits": preset.split_digits,
                            "bytes_per_token": _bytes_per_token(bpe, [d.text for d in cleaned.val]),
                            "strawberry": strawberry.sentence(), "view": "tokens.html"}
    bpe.save(out / "tokenizer.json")
    sample = f"{strawberry.question}\n\n{cleaned.train[0].text[:400]}"
    (out / "tokens.html").write_text(tokenview.html(bpe, sample, "How the assistant's BPE cuts text"), encoding="utf-8")

    config = GPTConfig(vocab_size=bpe.vocab_size, n_layer=preset.n_layer, n_embd=preset.n_embd,
                       n_head=preset.n_head, block_size=preset.block_size)
    base = init_gpt(config, seed).to(pick_device("auto"))  # CUDA when there is one
    plan = replace(preset.pretrain, seed=seed)
    history = pretrain(base, bpe, train_texts, [d.text for d in cleaned.val], plan,
                       progress=lambda step, h, lr: tick("pretrain", step, plan.steps))
    results["base"] = {"parameters": count_params(config), "config": config.to_dict(), "plan": vars(plan),
                       "history": history.to_dict(), "tokens_per_second": history.tokens_per_second}
    save_stage(out / "base", base, bpe, {"stage": "base", "preset": preset_name, "seed": seed})
    return results, {"world": world, "base": base, "bpe": bpe, "seen": seen, "preset": preset,
                     "search": search_tool(library, max_chars=preset.search_chars)}


def sft_stage(base, bpe, world, preset: Preset, seed: int, tick=None, name: str = "Ming", identity: bool = True,
              idk=(), stage: str = "sft", search=None, bills: int | None = None, extra=()):
    """A copy of the base model fine-tuned on the labelers' conversations (using the tools when `search`
    is given), with `bills` training bills (None: the preset's) and `extra` conversations; (model, what trained it)."""
    import copy

    tick = tick or (lambda stage, done, total: None)
    sft_set = conversations(world, seed, name=name, identity=identity, idk=idk,
                            bills=preset.bills if bills is None else bills, search=search, extra=extra)
    tuned = copy.deepcopy(base)  # the base model stays as it was, for the next variant
    plan = replace(preset.sft, seed=seed)
    history, cut = finetune(tuned, bpe, sft_set["train"], sft_set["val"], plan,
                            progress=lambda step, h, lr: tick(stage, step, plan.steps))
    return tuned, {"history": history.to_dict(), "cut": cut, "plan": vars(plan), "counts": sft_set["counts"],
                   "name": name, "identity": identity}


def midtrain_stage(base, bpe, world, preset: Preset, seed: int, tick=None,
                   library_search=None) -> tuple[object, dict]:
    """A copy of the base model mid-trained on generated conversations of every skill (midtrain.py), or
    the base model itself when the preset has no mid-training: (the model SFT starts from, what trained it)."""
    import copy

    if preset.midtrain is None:
        return base, {}
    tick = tick or (lambda stage, done, total: None)
    mid = copy.deepcopy(base)  # the base model stays as it was: the side-by-side examples show it
    plan = replace(preset.midtrain, seed=seed)
    info = midtrain(mid, bpe, world, plan, seed, preset.midtrain_per_skill, preset.search_chars,
                    progress=lambda step, h, lr: tick("midtrain", step, plan.steps), library_search=library_search,
                    comparisons=preset.midtrain_comparisons)
    return mid, info


PROGRESS = "build-progress.json"  # in the build folder while a build is unfinished (Steps)


class Steps:
    """A build's finished steps, kept on disk so that an interrupted build goes on where it stopped.

    After each step the results so far (and the facts' training mentions, which only the corpus
    gives) are written atomically to OUT/build-progress.json; the step's models are already saved
    in their folders. A resumed build reads them back instead of running the step again. Every step
    draws its randomness from the seed alone (training plans, samplers, the data), and a saved model
    is its float32 weights exactly, so a resumed build measures the numbers of an uninterrupted one
    (tests/assistant/test_resume.py).
    """

    def __init__(self, out, preset_name: str, seed: int, resume: bool = False):
        from .build_report import rates

        self.path = out / PROGRESS
        self.record = {"preset": preset_name, "seed": seed, "done": [], "seconds": 0.0, "results": {}, "seen": {}}
        if resume:
            if not self.path.is_file():
                raise OmakaseError(f"{out} holds no unfinished build ({PROGRESS} is missing); "
                                   f"build into a new --out, or pass --force to start this one again")
            try:
                record = json.loads(self.path.read_text(encoding="utf-8"))
                kept = (record["preset"], record["seed"])
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise OmakaseError(f"{self.path} is damaged ({e}); pass --force to build again") from None
            if kept != (preset_name, seed):
                raise OmakaseError(f"{out} holds an unfinished build of preset {kept[0]!r}, seed {kept[1]}; "
                                   f"resume it with --preset {kept[0]} --seed {kept[1]}")
            self.record = record | {"results": rates(record["results"])}
        self.started = time.perf_counter()

    @property
    def results(self) -> dict:
        return self.record["results"]

    def done(self, step: str) -> bool:
        return step in self.record["done"]

    def finish(self, step: str) -> None:
        from .build_report import jsonable

        self.record["done"].append(step)
        self.record.setdefault("finished_at", {})[step] = self.seconds
        record = self.record | {"results": jsonable(self.results), "seconds": self.seconds}
        atomic_write_text(self.path, json.dumps(record))

    @property
    def seconds(self) -> float:
        """Time spent building, over every run of this build (an interruption's pause is not counted)."""
        return self.record["seconds"] + time.perf_counter() - self.started

    @property
    def seconds_by_step(self) -> dict[str, float]:
        """Each finished step's time (a step interrupted and run again counts its last run only, as `seconds`
        does): where a preset's time limit goes."""
        at = self.record.get("finished_at", {})
        ends = [at[step] for step in self.record["done"] if step in at]
        return {step: end - start for step, start, end in zip(self.record["done"], [0.0] + ends, ends)}


def build(preset_name: str, out, seed: int = 0, progress=None, say=print, resume: bool = False) -> dict:
    """Run every stage into the folder `out`; returns the results (every measured number).

    resume: go on with an interrupted build in `out` from its last finished step (Steps)."""
    preset = preset_of(preset_name)
    tick = progress or (lambda stage, done, total: None)
    steps = Steps(out, preset_name, seed, resume)
    results = steps.results
    if steps.done("pretrain"):
        state = _saved_pretraining(out, preset, seed, steps.record["seen"])
    else:
        part, state = pretrain_stage(preset_name, out, seed, tick, say)
        results.update(part)
        steps.record["seen"] = dict(state["seen"])
        steps.finish("pretrain")
    world, base, bpe, seen = state["world"], state["base"], state["bpe"], state["seen"]

    # every SFT model starts from `start`: the mid-trained model, or the base model when the preset has none
    if steps.done("midtrain"):
        start = _saved(out / "mid") if results["midtrain"] else base
    else:
        start, results["midtrain"] = midtrain_stage(base, bpe, world, preset, seed, tick, state["search"])
        if results["midtrain"]:
            save_stage(out / "mid", start, bpe, {"stage": "mid", "preset": preset_name, "seed": seed})
        steps.finish("midtrain")

    # SFT
    if steps.done("sft"):
        sft_model = _saved(out / "sft")
    else:
        sft_model, results["sft"] = sft_stage(start, bpe, world, preset, seed, tick)
        save_stage(out / "sft", sft_model, bpe, {"stage": "sft", "preset": preset_name, "seed": seed})
        steps.finish("sft")

    # the notes' claims, measured
    questions = labelers.fact_questions(world, seed)
    held_out = evaluate.evenly(questions.held_out, preset.max_facts)
    unknown = evaluate.evenly(labelers.unknown_questions(world), preset.max_questions)
    if not steps.done("claims"):
        harmful = evaluate.evenly(labelers.refusals(seed=seed).held_out, preset.max_questions)
        results["examples"] = _examples(base, sft_model, bpe, world, seed)
        base_answers = evaluate.ask(base, bpe, [q.text for q in held_out], progress=lambda d, t: tick("base format", d, t))
        sft_answers = evaluate.ask(sft_model, bpe, [q.text for q in held_out],
                                   progress=lambda d, t: tick("knowledge", d, t))
        unknown_answers = evaluate.ask(sft_model, bpe, [q.text for q in unknown],
                                       progress=lambda d, t: tick("hallucination", d, t))
        results["format"] = {"base": evaluate.in_format(base_answers), "sft": evaluate.in_format(sft_answers)}
        results["harmful"] = {name: evaluate.polite_refusals(evaluate.ask(m, bpe, [q.text for q in harmful]))
                              for name, m in (("base", base), ("sft", sft_model))}
        results["knowledge"] = {"sft": evaluate.knowledge(held_out, sft_answers, seen)}
        results["hallucination"] = {"sft": {"invented": evaluate.confident_inventions(unknown_answers),
                                            "refused": evaluate.refusals(unknown_answers)}}
        steps.finish("claims")

    # Karpathy's mitigation: probe, teach "I don't know" where it is wrong, fine-tune again
    if not steps.done("idk"):
        probed = evaluate.evenly(labelers.probe_questions(world, seed), preset.max_questions)
        wrong = evaluate.probe(sft_model, bpe, probed, preset.probe_samples, seed=seed)
        idk_model, idk_info = sft_stage(start, bpe, world, preset, seed, tick, idk=wrong, stage="sft-idk")
        save_stage(out / "sft-idk", idk_model, bpe, {"stage": "sft", "variant": "idk", "preset": preset_name,
                                                     "seed": seed})
        idk_known = evaluate.ask(idk_model, bpe, [q.text for q in held_out])
        idk_unknown = evaluate.ask(idk_model, bpe, [q.text for q in unknown])
        results["knowledge"]["sft-idk"] = evaluate.knowledge(held_out, idk_known, seen)
        results["hallucination"]["sft-idk"] = {"invented": evaluate.confident_inventions(idk_unknown),
                                               "refused": evaluate.refusals(idk_unknown)}
        results["idk"] = {"probed": len(probed), "wrong": len(wrong), "sft": idk_info}
        steps.finish("idk")

    # knowledge of self: the name follows the SFT data
    if not steps.done("identity"):
        prompts = evaluate.evenly(labelers.identity_prompts(held_out=True), preset.max_questions)
        selves = {"Ming": sft_model}
        selves[OTHER_NAME], _ = sft_stage(start, bpe, world, preset, seed, tick, name=OTHER_NAME, stage="sft-other-name")
        selves["anonymous"], _ = sft_stage(start, bpe, world, preset, seed, tick, identity=False, stage="sft-anonymous")
        results["identity"] = {}
        for label, m in selves.items():
            answers = evaluate.ask(m, bpe, prompts)
            results["identity"][label] = {"Ming": evaluate.mentions(answers, "Ming"),
                                          OTHER_NAME: evaluate.mentions(answers, OTHER_NAME),
                                          "example": answers[0].reply}
        steps.finish("identity")

    # the experiments: tools, working memory, tokens to think, practice, the critics (experiments.py)
    setup = experiments.Setup(out, base, sft_model, bpe, world, preset, preset_name, seed, held_out, seen,
                              state["search"], lambda stage, **kw: sft_stage(start, bpe, world, preset, seed, tick,
                                                                              stage=stage, **kw), tick)
    sets = thinking.experiments(world, bpe, preset.block_size, seed, short_bills=preset_name == "quick")
    if not steps.done("tools"):
        results["tools"] = experiments.tools_experiment(setup, sets)
        results["knowledge"]["sft-tools (search)"] = results["tools"].pop("knowledge")
        steps.finish("tools")
    if not steps.done("memory"):
        results["memory"] = experiments.memory_experiment(setup)
        steps.finish("memory")
    if steps.done("thinking"):
        worker = _saved(out / "sft-work")
    else:
        results["thinking"], worker = experiments.thinking_experiment(setup, sets)
        steps.finish("thinking")
    if not steps.done("practice"):
        results["practice"] = experiments.rl_experiment(setup, worker, sets)
        steps.finish("practice")
    if not steps.done("critics"):
        results["critics"] = experiments.preference_experiment(setup)
        steps.finish("critics")
    if not preset.split_digits and not steps.done("digits"):
        results["digits"] = digits_experiment(preset_name, out / DIGITS, seed, tick, say, beside=bpe)
        steps.finish("digits")
    results["seconds"] = steps.seconds
    results["seconds_by_step"] = steps.seconds_by_step
    results["machine"] = machine()
    return results


DIGITS = "digits"  # the build's subfolder for the digits-one-per-token pipeline (digits_experiment)


def digits_experiment(preset_name: str, out, seed: int = 0, tick=None, say=print, beside=None) -> dict:
    """Jagged intelligence, the tokenizer's part: the pipeline again (the same corpus, pretraining,
    mid-training and sft-short's set) with a tokenizer that gives every digit a token of its own
    (bpe.SPLIT_DIGITS), asked the held-out comparisons sft-short is asked. Everything else being equal,
    a difference in which pairs are missed is the tokenizer's doing. Its tokenizer, base and sft-short are
    written into `out`. beside: the build's own tokenizer, whose cut of 9.11 and 9.9 is returned beside this one's."""
    tick = tick or (lambda stage, done, total: None)

    def ticked(stage, done, total):  # this pipeline's stages, told apart from the build's own
        tick(f"{DIGITS}: {stage}", done, total)

    preset = replace(preset_of(preset_name), split_digits=True)
    out.mkdir(parents=True, exist_ok=True)
    part, state = pretrain_stage(preset_name, out, seed, ticked, say, preset=preset)
    world, bpe = state["world"], state["bpe"]
    start, _ = midtrain_stage(state["base"], bpe, world, preset, seed, ticked, state["search"])
    sets = thinking.experiments(world, bpe, preset.block_size, seed, short_bills=preset_name == "quick")
    short, info = sft_stage(start, bpe, world, preset, seed, ticked, stage="sft-short", bills=0,
                            extra=experiments.thinking_conversations(sets, "sft-short"))
    save_stage(out / "sft-short", short, bpe, {"stage": "sft", "variant": "sft-short, digits one per token",
                                               "preset": preset_name, "seed": seed})
    held = evaluate.evenly(sets["comparisons"]["held_out"], preset.max_questions)
    trap = ("9.11", "9.9")
    cuts = {name: [[p.decode("utf-8", "replace") for p in thinking.number_pieces(x, b)] for x in trap]
            for name, b in (("bpe", beside), ("digits", bpe)) if b is not None}
    return {"tokenizer": part["tokenizer"], "train_tokens": part["corpus"]["train_tokens"], "cuts": cuts,
            "base": {"parameters": part["base"]["parameters"], "history": part["base"]["history"]},
            "sft": info, "dropped": sets["comparisons"]["dropped"],
            "comparisons": thinking.measure_comparisons(short, bpe, held, "direct",
                                                        progress=lambda d, t: ticked("comparisons", d, t))}


def _saved(folder):
    """A stage folder's torch GPT, as the build saved it (float32: the weights it trained, exactly)."""
    from ...model import load

    return load(folder, engine="torch", kind="bpe").network.to(pick_device("auto"))


def _saved_pretraining(out, preset: Preset, seed: int, seen: dict) -> dict:
    """What pretrain_stage hands the later stages, read back from the build folder (the world is made
    again from the seed; the facts' training mentions were kept in the progress record)."""
    from collections import Counter

    from ...bpe import BPE

    bpe = BPE.load(out / "tokenizer.json")
    library = json.loads((out / LIBRARY).read_text(encoding="utf-8"))
    return {"world": make_world(seed, preset.world), "base": _saved(out / "base"), "bpe": bpe, "seen": Counter(seen),
            "preset": preset, "search": search_tool(library, max_chars=preset.search_chars)}


def _tokenizer(texts: list[str], vocab_size: int, tick, split_digits: bool = False):
    from ...bpe import BPE, SPLIT, SPLIT_DIGITS

    return BPE.train("\n".join(texts), vocab_size, specials=SPECIALS + TOOL_SPECIALS,
                     progress=lambda done, total: tick("tokenizer", done, total),
                     pattern=SPLIT_DIGITS if split_digits else SPLIT)


def _mentions_by_bucket(world, counts) -> dict:
    """How often the kept training documents state each fact, by the bucket it was written for."""
    out: dict[int, list[int]] = {}
    for fact in world.facts():
        out.setdefault(fact.bucket, []).append(counts.get(fact.id, 0))
    return {b: {"facts": len(v), "mean": sum(v) / len(v), "min": min(v), "max": max(v)} for b, v in sorted(out.items())}


def _bytes_per_token(bpe, texts: list[str]) -> float:
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_tokens = sum(len(bpe.encode(t)) for t in texts)
    return n_bytes / n_tokens if n_tokens else float("nan")


def _examples(base, sft_model, bpe, world, seed: int) -> list[dict]:
    """The notes' examples, base and instruct side by side; and the base model as a document simulator."""
    rows = []
    for q in labelers.base_vs_instruct(world, seed=seed):
        conversation = [{"role": "user", "content": q.text}]
        rows.append({"prompt": q.text, "labelers": q.reply, "base": reply(base, bpe, conversation).text,
                     "sft": reply(sft_model, bpe, conversation).text})
    rows.append({"prompt": MENU_START, "labelers": "", "base": continue_text(base, bpe, MENU_START).text,
                 "sft": continue_text(sft_model, bpe, MENU_START).text, "document": True})
    return rows
