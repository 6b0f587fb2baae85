"""The tour's live numbers: one function per chapter, each returning plain data (no words).

Everything here is measured on the Ming at hand or computed from first
principles (like -ln 0.1); the article's own numbers live in ARTICLE and are
always shown labelled as the article's. The bulk work (cooking, scoring) uses
the fast engine when there is one; single-token inspection and the autograd
graph use the scalar kitchen, the only one that keeps every intermediate value.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .. import data
from .. import train as training
from ..adam import Adam
from ..autograd import TECHNIQUES, Value, count_techniques
from ..baseline import baseline_losses
from ..checkpoint import Checkpoint
from ..config import GPTConfig, block_of, count_params, dial_name, param_shapes
from ..engines import make_engine
from ..sample import cook, course_penalty, course_probabilities, softmax
from .ming import Ming, initial

# What the article claims, to print beside ours.
ARTICLE = {
    "blind": 3.3,
    "growth": {1: "3.3", 100: "~2.8", 500: "~2.5", 1000: "2.37"},  # as the article writes them, "~" included
    "vote": [("a", 0.70), ("e", 0.15), ("i", 0.08)],
    "names": ["karia", "yeran", "liole"],
}
# Published shapes: layers, width, heads, vocabulary, context; and the published parameter count.
BIG_KITCHENS = [
    ("GPT-2 small", 12, 768, 12, 50257, 1024, 124e6),
    ("GPT-2 XL", 48, 1600, 25, 50257, 1024, 1.5e9),
    ("GPT-3", 96, 12288, 96, 50257, 2048, 175e9),
]
TEMPERATURES = (0, 0.1, 0.5, 0.7, 1.0, 1.5)  # 0.7: the middle setting of the distribution figure
DISTRIBUTION_TEMPERATURES = (0.1, 0.7, 1.5)  # low, middle, high; each one of TEMPERATURES (its names are shown)
NAMES_PER_STAGE = 10
NAMES_PER_TEMPERATURE = 20
RECORD_SAMPLE = 12  # menus shown in chapter 1's figure
VOWELS = frozenset("aeiou")
TYPICAL_NAMES = 200  # locked-away menus whose every course is traced for the back kitchen's usual pass rate
RELAY = (3.0, 2.0)  # the article's chain rule: an influence of x3, then one of x2
SGD_STEPS = 300  # plain gradient descent is trained this many dishes for the comparison with Adam (cheap)


@dataclass
class Kitchen:
    """What every chapter reads: the trained run, the records, and the example menus."""

    ming: Ming
    run: training.Run
    records: set
    example: str  # "emma", or a stand-in from the data
    second: str  # "sophia", or a stand-in

    @property
    def tokenizer(self):
        return self.run.tokenizer

    @property
    def config(self) -> GPTConfig:
        return self.run.config

    @property
    def on_names(self) -> bool:
        """Is this Ming trained on names.txt? The article's numbers (its vote, curve and names) are about it."""
        return self.ming.data_info.get("sha256") == data.KNOWN["names"].sha256

    def scalar(self, ckpt: Checkpoint | None = None):
        """A fresh scalar kitchen (fresh, so no influence numbers are left over from an earlier trace)."""
        return make_engine("scalar", ckpt or self.ming.final)


def open_kitchen(ming: Ming) -> Kitchen:
    run = ming.run()
    records = set(ming.docs)
    fits = [d for d in ming.docs if len(d) < run.config.block_size]  # whole menus, bells included, fit the block
    telling = [d for d in fits if len(d) >= 2 and d != d[::-1]]  # reversed, they make another menu
    example = "emma" if "emma" in telling else (telling or fits or [ming.docs[0][: run.config.block_size - 1]])[0]
    others = [d for d in fits if len(d) != len(example)]
    second = "sophia" if "sophia" in fits else (others or [example])[0]
    return Kitchen(ming, run, records, example, second)


def mean_penalty(engine, tokenizer, name: str) -> float:
    courses = course_probabilities(engine, tokenizer, name)
    return sum(-math.log(p) for _, p in courses) / len(courses)


def records(k: Kitchen) -> dict:
    reversed_ = k.example[::-1]
    engine = k.run.engine
    return {
        "n_docs": len(k.ming.docs), "n_train": k.run.n_train, "n_val": len(k.run.val_docs),
        # what the run actually saw: steps x batch documents, cycling over the training part
        "seen": min(k.run.step * k.run.plan.batch_size, k.run.n_train), "epochs": k.run.epochs,
        "example": k.example, "example_is_emma": k.example == "emma", "second": k.second,
        "longer": sum(len(doc) > len(k.example) for doc in k.ming.docs),  # for the chapter's question
        "lengths": sorted(Counter(len(doc) for doc in k.ming.docs).items()),  # (courses, menus) over every record
        "sample": k.run.train_docs[:RECORD_SAMPLE],  # the first menus Ming studied, in his order
        # a menu and its closing bell are len + 1 predictions; the block holds block_size of them
        "too_long": sum(len(doc) + 1 > k.config.block_size for doc in k.ming.docs), "block": k.config.block_size,
        "example_courses": len(k.example), "second_courses": len(k.second), "reversed": reversed_,
        "reversed_in_records": reversed_ in k.records,
        "courses_example": course_probabilities(engine, k.tokenizer, k.example),
        "courses_reversed": course_probabilities(engine, k.tokenizer, reversed_),
        "penalty_example": mean_penalty(engine, k.tokenizer, k.example),
        "penalty_reversed": mean_penalty(engine, k.tokenizer, reversed_),
    }


def courses(k: Kitchen) -> dict:
    tok = k.tokenizer
    before = initial(k.ming).params["wte"]
    after = k.ming.final.params["wte"]
    labels = [tok.label(i) for i in range(tok.vocab_size)]
    course = tok.encode(k.example)[1]
    tokens = tok.encode(k.example)
    return {
        "first_char": tok.chars[0], "last_char": tok.chars[-1], "last_id": len(tok.chars) - 1, "bell": tok.bos,
        "example": k.example, "tokens": tokens, "token_labels": [tok.label(t) for t in tokens],
        "course": tok.label(course), "card_before": before[course], "card_after": after[course],
        "labels": labels, "cards_before": before, "cards_after": after, "n_embd": k.config.n_embd,
        "alike": most_alike(after, labels, 3),
        "alike_before": most_alike(before, labels, 1)[0],  # the baseline: random cards can point alike too
        "map_before": card_map(before), "map_after": card_map(after),
        "vowels": [lab for lab in labels if lab.lower() in VOWELS],
        "vowel_distances": {"before": vowel_distances(before, labels), "after": vowel_distances(after, labels)},
    }


def card_map(cards: list[list[float]]) -> dict:
    """Every card squeezed to two numbers: its place along the two directions the cards spread most (PCA)."""
    centred = np.array(cards) - np.mean(cards, axis=0)
    _, spread, directions = np.linalg.svd(centred, full_matrices=False)
    return {"points": (centred @ directions[:2].T).tolist(),
            "kept": float((spread[:2] ** 2).sum() / (spread**2).sum())}  # the share of the spread the map shows


def vowel_distances(cards: list[list[float]], labels: list[str]) -> dict | None:
    """Mean distance (all n_embd numbers) between two vowels' cards, and between a vowel's and a consonant's."""
    vowels = [i for i, lab in enumerate(labels) if lab.lower() in VOWELS]
    consonants = [i for i, lab in enumerate(labels) if lab.isalpha() and lab.lower() not in VOWELS]
    if len(vowels) < 2 or not consonants:
        return None
    cards = np.array(cards)
    dist = np.linalg.norm(cards[:, None] - cards[None], axis=-1)
    among = dist[np.ix_(vowels, vowels)][np.triu_indices(len(vowels), 1)]  # each pair of vowels once
    return {"among_vowels": float(among.mean()), "vowel_consonant": float(dist[np.ix_(vowels, consonants)].mean())}


def most_alike(cards: list[list[float]], labels: list[str], n: int) -> list[tuple[str, str, float]]:
    """The n pairs of cards pointing most nearly the same way (cosine similarity)."""
    unit = np.array(cards)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    cos = unit @ unit.T
    pairs = [(cos[i, j], i, j) for i in range(len(cards)) for j in range(i + 1, len(cards))]
    return [(labels[i], labels[j], float(c)) for c, i, j in sorted(pairs, reverse=True)[:n]]


def size(v) -> float:
    return float(np.linalg.norm(v))


def assembly_line(k: Kitchen) -> dict:
    """One moment of service: the example served up to its last course, traced through every station."""
    tok, engine = k.tokenizer, k.scalar()
    tokens = tok.encode(k.example)
    served, truth = tokens[:-2], tokens[-2]
    cache, trace = engine.new_cache(), {}
    for pos, token in enumerate(served):
        trace = {}
        logits = engine.forward_token(token, pos, cache, trace)
    probs = softmax([v.data for v in logits])
    top = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)[:5]
    stream, after_attention, after_mlp = trace["stream_in"][0], trace["after_attention"][0], trace["residual"][0]
    return {
        "served": [tok.label(t) for t in served], "truth": tok.label(truth), "p_truth": probs[truth],
        "n_layer": k.config.n_layer, "n_head": k.config.n_head, "n_embd": k.config.n_embd,
        "attention": trace["attention"][0],
        "width": len(trace["mlp_hidden"][0]), "passed": sum(h > 0 for h in trace["mlp_hidden"][0]),
        "mlp_pre": trace["mlp_pre"][0],
        "embedding": size(trace["embedding"]), "cleansed": size(stream),
        "added": size(np.subtract(after_attention, stream)), "after_attention": size(after_attention),
        "after_mlp": size(trace["residual"][-1]),
        "mlp_added": size(np.subtract(after_mlp, after_attention)),  # the back kitchen's spoonful (first line)
        # the course's numbers at each station of the first line: what the assembly-line figure draws
        "stations": {"embedding": trace["embedding"], "cleansed": stream, "after_attention": after_attention,
                     "after_mlp": after_mlp},
        "vote": [(tok.label(i), probs[i]) for i in top], "article_vote": ARTICLE["vote"] if k.on_names else [],
        "typical": typical_pass(k),
    }


def typical_pass(k: Kitchen) -> dict:
    """How many back-kitchen ideas pass quality control (first line) at every course of many locked-away menus.

    One moment can be unusual; this is the usual. The fast engine traces each course as the scalar one does.
    """
    engine, docs = k.run.engine, (k.run.val_docs or k.run.train_docs)[:TYPICAL_NAMES]
    passed, width = [], 0
    for doc in docs:
        tokens, cache = k.run.encode(doc), engine.new_cache()
        for pos in range(min(len(tokens) - 1, k.config.block_size)):  # every course Ming predicts after
            trace = {}
            engine.forward_token(tokens[pos], pos, cache, trace)
            width = len(trace["mlp_pre"][0])
            passed.append(sum(h > 0 for h in trace["mlp_pre"][0]))
    return {"menus": len(docs), "passed": passed, "width": width, "share": sum(passed) / (len(passed) * width)}


def scorecard(k: Kitchen, line: dict) -> dict:
    vocab = k.tokenizer.vocab_size
    losses = k.ming.final.run.get("losses") or []
    return {
        "penalties": [(p, math.log(1 / p)) for p in (1.0, 0.1, 0.001)],
        "vocab": vocab, "blind": math.log(vocab), "article_blind": ARTICLE["blind"],
        "step1": losses[0] if losses else None,
        "truth": line["truth"], "p_truth": line["p_truth"], "penalty": -math.log(line["p_truth"]),
    }


def tracing(k: Kitchen) -> dict:
    # The worked example, computed by the autograd engine itself.
    salt, sugar = Value(2.0), Value(3.0)
    blend = salt * sugar
    taste = blend + salt
    taste.backward()
    worked = {"salt": salt.data, "sugar": sugar.data, "blend": blend.data, "taste": taste.data,
              "d_salt": salt.grad, "d_sugar": sugar.grad, "via_blend": sugar.data, "direct": 1.0}
    # The chain rule as a relay: two influences in a row, multiplied by the same machinery.
    dial = Value(1.0)
    plate = dial * RELAY[0] * RELAY[1]
    plate.backward()

    # A real complaint: Ming's worst course of the example, traced back to every dial.
    tok = k.tokenizer
    tokens = tok.encode(k.example)
    probs = course_probabilities(k.run.engine, tok, k.example)
    worst = min(range(len(probs)), key=lambda i: probs[i][1])
    engine = k.scalar()
    penalty = engine.course_graph(tokens, worst)
    penalty.backward()
    grads = engine.grads()
    flat = [g for name, _ in param_shapes(k.config) for row in grads[name] for g in row]
    top = sorted(range(len(flat)), key=lambda i: abs(flat[i]), reverse=True)[:5]
    nudged = nudge(k, top[0], NUDGE, tokens, worst)  # the nudge test: does the penalty move as the trace predicts?

    # The whole forward and backward pass of the example: which techniques, how many nodes.
    engine = k.scalar()
    graph = engine.loss_graph([tokens])
    graph.backward()
    counts = count_techniques(graph)
    return {
        "worked": worked, "relay": {"first": RELAY[0], "second": RELAY[1], "influence": dial.grad},
        "example": k.example, "context": [tok.label(t) for t in tokens[: worst + 1]],
        "truth": probs[worst][0], "p": probs[worst][1], "penalty": penalty.data,
        "n_params": count_params(k.config),
        "dials": [(dial_name(k.config, i), i, flat[i]) for i in top],
        "dial_cells": [locate(k.config, i) for i in top],  # (matrix, row, column) of each, for the wall
        # every dial on the wall, matrix by matrix, with the station (part of the kitchen) it belongs to
        "wall": [{"matrix": name, "station": block_of(name), "values": k.ming.final.params[name]}
                 for name, _ in param_shapes(k.config)],
        "nudge": NUDGE, "nudged_change": nudged - penalty.data,
        "techniques": {t: counts[t] for t in TECHNIQUES}, "kinds": sorted(set(counts) - {"leaf"}),
        "leaves": counts["leaf"], "nodes": sum(counts[t] for t in TECHNIQUES),
    }


NUDGE = 0.001


def locate(config: GPTConfig, dial: int) -> tuple[str, int, int]:
    """The matrix, row and column of the flat dial number `dial` (0-based, reference order)."""
    for name, (rows, cols) in param_shapes(config):
        if dial < rows * cols:
            return name, dial // cols, dial % cols
        dial -= rows * cols
    raise IndexError("dial index out of range")


def nudge(k: Kitchen, dial: int, by: float, tokens: list[int], course: int) -> float:
    """The penalty on course `course + 1` of `tokens` after turning dial number `dial` up by `by`."""
    params = {name: [list(row) for row in rows] for name, rows in k.ming.final.params.items()}
    name, row, col = locate(k.config, dial)
    params[name][row][col] += by
    return course_penalty(make_engine(k.run.engine.name, k.config, params), tokens, course)


def training_story(k: Kitchen) -> dict:
    run, plan = k.run, k.run.plan
    losses = k.ming.final.run.get("losses") or []
    val = {v["step"]: v for v in k.ming.final.run.get("val") or []}
    stages = []
    for step, snapshot in k.ming.stages.items():
        if step == 0:
            continue
        window = losses[max(0, step - training.RUNNING_WINDOW) : step]
        engine = make_engine(k.ming.engine, snapshot)
        stages.append({
            "step": step, "running_mean": sum(window) / len(window) if window else None,
            "val": val[step]["loss"] if step in val else None,
            "article": ARTICLE["growth"].get(step) if k.on_names else None,
            "lr": training.learning_rate(plan, step - 1),
            "names": cook(engine, k.tokenizer, run.rng(), NAMES_PER_STAGE, 0.5),
        })
    return {
        "steps": plan.steps, "batch": plan.batch_size, "window": training.RUNNING_WINDOW, "n_val": len(run.val_docs),
        "val_docs": next((v["n_docs"] for v in val.values()), 0),
        "losses": losses, "blind": math.log(k.tokenizer.vocab_size), "stages": stages,
        "memory": memory(k), "spread": spread(k), "versus": versus_sgd(k), "one_step": one_step(k),
    }


def one_step(k: Kitchen) -> dict:
    """One real Adam step on the example menu alone, from Ming's final dials, at the run's full step size.

    The sensei starts with no memory (his first step: each dial moves by about the step size, against its
    own influence), so what moves the dials is this menu's complaint alone. Ming's own dials stay as they are:
    the step is taken on a copy.
    """
    engine = make_engine(k.ming.engine, k.config, copy.deepcopy(k.ming.final.params), None)
    before = course_probabilities(engine, k.tokenizer, k.example)
    engine.loss_and_grads([k.run.encode(k.example)])
    engine.update(k.run.plan.adam(), k.run.plan.lr, 1)
    after = course_probabilities(engine, k.tokenizer, k.example)
    return {"example": k.example, "lr": k.run.plan.lr, "before": before, "after": after,
            "penalty_before": sum(-math.log(p) for _, p in before) / len(before),
            "penalty_after": sum(-math.log(p) for _, p in after) / len(after)}


class PlainSGD:
    """A sensei with none of Adam's habits: every dial moves by the step size times its own influence."""

    def rule(self, p, g, m, v, lr: float, t: int):
        return p - lr * g, m, v


def versus_sgd(k: Kitchen) -> dict:
    """Plain gradient descent from Ming's very first dials, on the same menus with the same step sizes, for
    SGD_STEPS dishes; the counting tables' held-out losses to measure both against.

    Cheap on the fast engine (a fraction of a second); on the scalar one it is the slowest part of the tour.
    """
    c, plan = k.config, training.plan_of(k.ming.final.run)
    run = training.start(k.ming.docs, k.ming.data_info, plan, k.ming.engine, c.n_layer, c.n_embd, c.n_head,
                         c.block_size)
    run.adam = PlainSGD()  # the training loop asks its sensei for the rule; everything else is the same
    steps = min(SGD_STEPS, plan.steps)
    for _ in range(steps):
        run.train_step()
    held_out = run.validate()
    tables = baseline_losses([run.encode(d) for d in run.train_docs], [run.encode(d) for d in run.val_docs],
                             c.vocab_size, c.block_size) if run.val_docs else None
    adam = (k.ming.final.run.get("losses") or [])[:steps]  # Adam's same dishes, from the run's own record
    window = adam[-training.RUNNING_WINDOW:]
    article = [(step, float(text.lstrip("~")), text) for step, text in ARTICLE["growth"].items()] if k.on_names else []
    return {"steps": steps, "sgd": run.losses, "sgd_val": held_out["loss"] if held_out else None, "lr": plan.lr,
            # both running means at the last dish SGD cooked
            "sgd_mean": run.running_mean(), "adam_mean": sum(window) / len(window) if len(adam) == steps else None,
            "baselines": tables, "article": article}


def memory(k: Kitchen) -> dict | None:
    """Adam's first habit, from the gradient the tour watched during training (None for other checkpoints)."""
    watched = k.ming.record.get("watched")
    if not watched:
        return None
    g, m = np.array(watched["gradient"]), np.array(watched["momentum"])
    return {"dial": watched["dial"], "dial_name": dial_name(k.config, watched["dial"]),
            "gradient": watched["gradient"], "momentum": watched["momentum"],
            "std_g": float(g.std()), "std_m": float(m.std())}


def spread(k: Kitchen) -> dict | None:
    """Adam's second habit at the middle stage: each dial's influence is scaled by its own history."""
    with_moments = [s for s in k.ming.stages.values() if s.moments is not None and s.run.get("step")]
    if not with_moments:
        return None
    snapshot = min(with_moments, key=lambda s: abs(s.run["step"] - k.run.plan.steps / 2))
    t, adam = snapshot.run["step"], Adam()
    names = [name for name, _ in param_shapes(k.config)]
    v = np.concatenate([np.ravel(snapshot.moments[1][n]) for n in names])
    used = v > 0  # dials that have had some influence so far
    typical = np.sqrt(v[used] / (1 - adam.beta2**t))  # each dial's usual influence size (Adam's v)
    lr = training.learning_rate(k.run.plan, t - 1)
    multiplier = lr / (typical + adam.eps)  # what Adam multiplies this dial's (remembered) influence by
    g10, g90 = np.percentile(typical, [10, 90])
    x10, x90 = np.percentile(multiplier, [10, 90])
    return {"step": t, "lr": lr, "g10": g10, "g90": g90, "x10": x10, "x90": x90, "ratio": x90 / x10,
            "dials": int(used.sum())}


def graduation(k: Kitchen) -> dict:
    engine, tok = k.run.engine, k.tokenizer
    menus = []
    for t in TEMPERATURES:
        names = cook(engine, tok, k.run.rng(), 3 if t == 0 else NAMES_PER_TEMPERATURE, t)
        invented = [n for n in names if n and n not in k.records]
        menus.append({"temperature": t, "names": names, "invented": len(invented), "n": len(names)})
    cooked = {n for m in menus for n in m["names"]}
    by_temperature = {m["temperature"]: m["names"] for m in menus}
    logits = engine.logits(engine.new_cache(), tok.bos, 0)
    return {
        "menus": menus, "greedy": menus[0]["names"][0], "greedy_same": len(set(menus[0]["names"])) == 1,
        "article_names": [(n, n in k.records, n in cooked) for n in ARTICLE["names"]] if k.on_names else [],
        "distribution": {"labels": [tok.label(i) for i in range(tok.vocab_size)],
                         "temperatures": list(DISTRIBUTION_TEMPERATURES),
                         "probs": [softmax(logits, t) for t in DISTRIBUTION_TEMPERATURES],
                         "names": [by_temperature[t][:3] for t in DISTRIBUTION_TEMPERATURES]},  # cooked at each
    }


def michelin(k: Kitchen) -> dict:
    c = k.config
    models = [{"name": "Ming", "n_layer": c.n_layer, "n_embd": c.n_embd, "n_head": c.n_head,
               "vocab": c.vocab_size, "context": c.block_size, "formula": count_params(c), "published": None}]
    for name, n_layer, n_embd, n_head, vocab, context, published in BIG_KITCHENS:
        shape = GPTConfig(vocab, n_layer, n_embd, n_head, context)
        models.append({"name": name, "n_layer": n_layer, "n_embd": n_embd, "n_head": n_head, "vocab": vocab,
                       "context": context, "formula": count_params(shape), "published": published})
    # the factor is computed from the published count of the largest kitchen, never written by hand
    biggest = max(models[1:], key=lambda m: m["published"])
    return {"models": models, "n_docs": len(k.ming.docs), "vocab": c.vocab_size,
            "biggest": biggest["name"], "factor": biggest["published"] / count_params(c),
            "seconds": k.ming.record.get("seconds"), "engine": k.ming.record.get("engine")}


def measure(k: Kitchen, chapters: list[int]) -> dict[int, dict]:
    """The data of the chapters asked for (chapter 4 reuses chapter 3's moment of service)."""
    out = {}
    if 1 in chapters:
        out[1] = records(k)
    if 2 in chapters:
        out[2] = courses(k)
    if 3 in chapters or 4 in chapters:
        line = assembly_line(k)
        if 3 in chapters:
            out[3] = line
        if 4 in chapters:
            out[4] = scorecard(k, line)
    for n, chapter in ((5, tracing), (6, training_story), (7, graduation), (8, michelin)):
        if n in chapters:
            out[n] = chapter(k)
    return out
