"""Chapter 6, the sensei's training method: the growth curve, Adam's habits, and plain gradient descent beside it."""

from __future__ import annotations

import copy
import hashlib
import math
from pathlib import Path

import numpy as np

from ... import train as training
from ...adam import Adam
from ...anatomy import Words, dial_parts, locate, name_dial
from ...baseline import baseline_losses, bigram_probs, pair_counts, predictions
from ...config import dial_name, param_shapes
from ...engines import make_engine
from ...sample import cook, course_probabilities
from ..drawing import BLACK, BLUE, GREY, ORANGE, SKY, VERMILLION, course_label, monospace, subplots
from ..live_model import ARTICLE, Kitchen
from ..story import Catalogue, Figure, Hint, Para, Question, Table, num, pct, visible

NAMES_PER_STAGE = 10
SGD_STEPS = 300  # plain gradient descent is trained this many dishes for the comparison with Adam (cheap)
CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]  # what computed a remembered measurement


def measure(k: Kitchen) -> dict:
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
        stages[-1]["known"] = sum(name in k.records for name in stages[-1]["names"])
    return {
        "steps": plan.steps, "batch": plan.batch_size, "window": training.RUNNING_WINDOW, "n_val": len(run.val_docs),
        "val_docs": next((v["n_docs"] for v in val.values()), 0),
        "losses": losses, "blind": math.log(k.tokenizer.vocab_size), "stages": stages,
        "memory": memory(k), "spread": spread(k), "one_step": one_step(k),
        # the slowest measurement of the tour, kept with the cached Ming (the name changes with this file)
        "versus": k.ming.remember(f"versus-sgd-{CODE}", lambda: versus_sgd(k)),
        "pairs": k.ming.remember(f"against-pairs-{CODE}", lambda: against_pairs(k)),
        "n_train": k.run.n_train, "seen": min(k.run.step * plan.batch_size, k.run.n_train),
    }


PAIR_MENUS = 500  # locked-away menus on which Ming and the pair table are compared course by course


def against_pairs(k: Kitchen) -> dict | None:
    """Ming against the table that counts which course follows which (fit on every studied menu), on the
    locked-away menus, split by where the course stands: the first course, the ones inside, the closing bell."""
    if not k.run.val_docs:
        return None
    c = k.config
    table = bigram_probs([], c.vocab_size, c.block_size, pair_counts([k.run.encode(d) for d in k.run.train_docs],
                                                                    c.vocab_size, c.block_size))
    sums = {kind: [0.0, 0.0, 0] for kind in ("first", "inside", "end")}
    docs = k.run.val_docs[:PAIR_MENUS]
    for doc, ming in zip(docs, k.course_probabilities(docs)):
        tokens = k.run.encode(doc)
        for pos, ((prev, nxt), (_, p)) in enumerate(zip(predictions(tokens, c.block_size), ming)):
            kind = "first" if pos == 0 else "end" if nxt == k.tokenizer.bos else "inside"
            sums[kind][0] -= math.log(p)
            sums[kind][1] -= math.log(table[prev][nxt])
            sums[kind][2] += 1
    return {kind: {"ming": a / n, "pairs": b / n, "courses": n} for kind, (a, b, n) in sums.items() if n}


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
            "dial_parts": dial_parts(k.config, k.tokenizer, *locate(k.config, watched["dial"])),
            "gradient": watched["gradient"], "momentum": watched["momentum"],
            "std_g": float(g.std()), "std_m": float(m.std())}


def spread(k: Kitchen) -> dict | None:
    """Adam's second habit at the middle stage: each dial's influence is scaled by its own history."""
    # Adam's multiplier is the step size over each dial's usual influence: read where the step size is not ~0
    with_moments = [s for s in k.ming.stages.values() if s.moments is not None and s.run.get("step")
                    and training.learning_rate(k.run.plan, s.run["step"] - 1) > 0.05 * k.run.plan.lr]
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
            "low": x10 / lr, "high": x90 / lr, "dials": int(used.sum())}


def tell(d: dict, t: Catalogue) -> list:
    # the article's column only where the article has numbers (its curve is for names.txt)
    article = any(s["article"] is not None for s in d["stages"])
    growth = [[f"{s['step']:,}", num(s["running_mean"]), num(s["val"])]
              + (["—" if s["article"] is None else f"{s['article']}"] if article else []) for s in d["stages"]]
    blocks = [Para(t("ch6.loop" if d["batch"] == 1 else "ch6.loop_batch", steps=f"{d['steps']:,}", batch=d["batch"]))]
    if len(d["stages"]) > 1:
        blocks += [
            Table([t("col.dish"), t("col.running_mean"), t("col.held_out")]
                  + ([t("col.article_growth")] if article else []), growth),
            Para(t("ch6.growth_note", window=d["window"], n_val=f"{d['val_docs']:,}")),
        ] + [Para(text) for text in [growth_lesson(d, t)] if text] + ([Para(t("ch6.article_growth"))] if article else [])
    else:  # only the final dials: no growth to show stage by stage
        final = d["stages"][0]
        blocks += [Para(t("ch6.one_stage", step=f"{final['step']:,}", val=num(final["val"]))), Hint(t("ch6.keep_at"))]
    blocks.append(Figure("loss_curve", loss_curve_alt(d, t)))
    blocks += [
        Para(t("ch6.names")),
        Table([t("col.dish"), t("col.names")], [[f"{s['step']:,}", " ".join(visible(n) or "∅" for n in s["names"])]
                                               for s in d["stages"]]),
        Figure("stage_names", t("fig.stage_names.alt", first=f"{d['stages'][0]['step']:,}",
                                 last=f"{d['stages'][-1]['step']:,}", n=len(d["stages"][-1]["names"]),
                                 known_first=d["stages"][0]["known"], known_last=d["stages"][-1]["known"])),
    ]
    one = d["one_step"]
    lower = one["penalty_after"] < one["penalty_before"]
    blocks += [Para(t("ch6.one_step" if lower else "ch6.one_step_up", example=one["example"], lr=f"{one['lr']:g}",
                      before=num(one["penalty_before"]), after=num(one["penalty_after"]))),
               Figure("adam_step", t("fig.adam_step.alt" if lower else "fig.adam_step.alt_up", example=one["example"],
                                     before=num(one["penalty_before"]), after=num(one["penalty_after"]))),
               Para(t("ch6.adam"))]
    memory = d["memory"]
    if memory:
        rows = [[str(i + 1), f"{g:+.4f}", f"{m:+.4f}"]
                for i, (g, m) in enumerate(zip(memory["gradient"][:6], memory["momentum"][:6]))]
        blocks += [Para(t("ch6.memory", dial=name_dial(Words(t.lang), memory["dial_parts"]), address=memory["dial_name"],
                          std_g=f"{memory['std_g']:.3f}", std_m=f"{memory['std_m']:.3f}")),
                   Table([t("col.dish"), t("col.raw"), t("col.memory")], rows)]
    else:
        blocks.append(Para(t("ch6.memory_unknown")))
    s = d["spread"]
    if s:
        blocks.append(Para(t("ch6.spread", step=f"{s['step']:,}", lr=f"{s['lr']:.5f}", g10=f"{s['g10']:.2g}",
                             g90=f"{s['g90']:.2g}", x10=f"{s['x10']:.2g}", x90=f"{s['x90']:.2g}",
                             low=f"{s['low']:,.0f}", high=f"{s['high']:,.0f}")))
    blocks += [Para(t("ch6.decay")),
               Table([t("col.dish"), t("col.learning_rate")],
                     [[f"{stage['step']:,}", f"{stage['lr']:.5f}"] for stage in d["stages"]])]
    v = d["versus"]
    if v["adam_mean"] is not None and v["baselines"] and v["sgd_val"] is not None:
        b = v["baselines"]
        blocks += [Para(t("ch6.sgd_setup", steps=f"{v['steps']:,}")), Question(*question(d, t)),
                   Para(t("ch6.sgd", steps=f"{v['steps']:,}", sgd_val=num(v["sgd_val"]), uniform=num(b["uniform"]),
                          unigram=num(b["unigram"]), bigram=num(b["bigram"])))]
        blocks += [Para(text) for text in [pairs_lesson(d, t)] if text]
        blocks.append(Figure("adam_vs_sgd", t("fig.adam_vs_sgd.alt", steps=f"{v['steps']:,}", sgd=num(v["sgd_mean"]),
                                              adam=num(v["adam_mean"]))))
    else:
        blocks.append(Question(*question(d, t)))
    return blocks


def growth_lesson(d: dict, t: Catalogue) -> str | None:
    """The growth curve's lesson in one sentence: how much of the whole fall had happened by the first stage
    after the start (from the running means, so it holds for any run)."""
    means = [s for s in d["stages"] if s["running_mean"] is not None]
    if len(means) < 3:
        return None
    first, early, last = means[0], means[1], means[-1]
    fall = first["running_mean"] - last["running_mean"]
    if fall <= 0:
        return t("ch6.no_fall", first=num(first["running_mean"]), last=num(last["running_mean"]))
    share = (first["running_mean"] - early["running_mean"]) / fall
    return t("ch6.early" if share >= 0.5 else "ch6.late", step=f"{early['step']:,}", share=pct(share),
             first=num(first["running_mean"]), last=num(last["running_mean"]),
             part=pct(early["step"] / d["steps"]))


def pairs_lesson(d: dict, t: Catalogue) -> str | None:
    """Why Ming beats the pair table by so little, and where he beats it: from the course-by-course comparison."""
    pairs, final = d["pairs"], d["stages"][-1]
    if not pairs or final["val"] is None:
        return None
    gaps = {kind: x["pairs"] - x["ming"] for kind, x in pairs.items()}
    best = max(gaps, key=gaps.get)
    where = t("list.semicolon").join(t("ch6.pairs_where", kind=t(f"ch6.kind.{kind}"), ming=num(x["ming"]), pairs=num(x["pairs"]))
                   for kind, x in pairs.items())
    gap = d["versus"]["baselines"]["bigram"] - final["val"]
    if gap <= 0 or gaps[best] <= 0:  # the pair table scores as well as Ming, or better: said as it is
        return t("ch6.pairs_behind", bigram=num(d["versus"]["baselines"]["bigram"]), val=num(final["val"]),
                 n_train=f"{d['n_train']:,}", seen=f"{d['seen']:,}", where=where)
    return t("ch6.pairs", gap=num(gap), n_train=f"{d['n_train']:,}", seen=f"{d['seen']:,}", where=where,
             best=t(f"ch6.kind.{best}"), best_gap=num(gaps[best]))


def loss_curve_alt(d: dict, t: Catalogue) -> str:
    means = running(d["losses"], d["window"]) or [None]
    return t("fig.loss_curve.alt", steps=f"{d['steps']:,}", first=num(means[0]), last=num(means[-1]),
             blind=num(d["blind"]))


def question(d: dict, t) -> tuple[str, str]:
    v, s = d["versus"], d["spread"]
    if v["adam_mean"] is None or v["sgd_mean"] is None:
        return t("q6.ask_unknown"), t("q6.answer_unknown")
    better = v["adam_mean"] < v["sgd_mean"]
    why = t("q6.why", lr=f"{s['lr']:.5f}", low=f"{s['low']:,.0f}", high=f"{s['high']:,.0f}") if s else ""
    return (t("q6.ask", steps=f"{v['steps']:,}"),
            t("q6.answer" if better else "q6.answer_plain", steps=f"{v['steps']:,}", sgd=num(v["sgd_mean"]),
              adam=num(v["adam_mean"]), why=why).strip())


def loss_curve(d: dict, w):
    fig, ax = subplots(figsize=(7, 3.4))
    losses, window = d["losses"], d["window"]
    steps = range(1, len(losses) + 1)
    means = running(losses, window)
    ax.plot(steps, losses, color=SKY, linewidth=0.6, alpha=0.6, label=w("loss.each"))
    ax.plot(steps, means, color=BLUE, linewidth=2, label=w("loss.mean", window=window))
    ax.axhline(d["blind"], color=ORANGE, linestyle="--", label=w("loss.blind", blind=f"{d['blind']:.2f}"))
    val = [(s["step"], s["val"]) for s in d["stages"] if s["val"] is not None]
    if val:
        ax.plot(*zip(*val), "D", color=VERMILLION, label=w("loss.held_out"))
    for s in d["stages"]:
        ax.axvline(s["step"], color=BLACK, linewidth=0.5, linestyle=":")
    ax.set(xlabel=w("dish_axis"), ylabel=w("loss.y"), title=w("loss.title"))
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    rows = [["step", "loss", "running_mean", "held_out"]]
    held = dict(val)
    return fig, rows + [[s, loss, m, held.get(s, "")] for s, loss, m in zip(steps, losses, means)]


def running(losses: list[float], window: int) -> list[float]:
    """The mean of the last `window` losses at each step (fewer at the start)."""
    return [sum(losses[max(0, i - window): i]) / min(i, window) for i in range(1, len(losses) + 1)]


def adam_vs_sgd(d: dict, w):
    """Adam's running mean against plain gradient descent's over the same dishes from the same start, and the
    counting tables' held-out scores; every line labelled where it ends (no legend to match colours against)."""
    v, window = d["versus"], d["window"]
    steps = v["steps"]
    fig, ax = subplots(figsize=(7.5, 3.6))
    rows = [["series", "step", "value"]]
    ends = []  # (y, label, colour) written at the right edge, spread so that they never overlap
    sgd = w("versus.sgd", lr=f"{v['lr']:g}")
    for name, losses, colour, label in (("adam", d["losses"][:steps], BLUE, w("versus.adam")),
                                        ("sgd", v["sgd"][:steps], ORANGE, sgd)):
        means = running(losses, window)
        ax.plot(range(1, len(means) + 1), means, color=colour, linewidth=2)
        ends.append((means[-1], f"{label}: {means[-1]:.2f}", colour))
        rows += [[f"{name}_running_mean", s + 1, m] for s, m in enumerate(means)]
    if v["sgd_val"] is not None:
        ax.plot([steps], [v["sgd_val"]], "D", color=ORANGE)
        rows.append(["sgd_held_out", steps, v["sgd_val"]])
    for (name, loss), style in zip((v["baselines"] or {}).items(), (":", "--", "-.")):
        ax.axhline(loss, color=GREY, linestyle=style, linewidth=1)
        ends.append((loss, w("versus.table", name=w(f"versus.{name}"), loss=f"{loss:.2f}"), GREY))
        rows.append([f"{name}_table_held_out", "", loss])
    article = [(step, loss, text) for step, loss, text in v["article"] if step <= steps]
    if article:
        xs, ys, _ = zip(*article)
        ax.plot(xs, ys, "X", color=VERMILLION, markersize=8)
        ax.annotate(w("versus.article"), (xs[-1], ys[-1]), xytext=(-6, -14), textcoords="offset points",
                    ha="right", fontsize=8, color=VERMILLION)
        rows += [["article", step, text] for step, _, text in article]
    low, high = ax.get_ylim()
    gap = (high - low) * 0.075  # labels at least this far apart, in data units
    placed = []
    for y, label, colour in sorted(ends):
        y = max([y] + [p + gap for p in placed[-1:]])
        placed.append(y)
        ax.text(steps * 1.02, y, label, color=colour if colour != GREY else BLACK, fontsize=8, va="center")
    ax.set(xlim=(0, steps), xlabel=w("dish_axis"), ylabel=w("loss.y"),
           title=w("versus.title_steps", steps=f"{steps:,}"))
    return fig, rows


def adam_step(d: dict, w):
    """One real Adam step on one menu: the penalty of each of its courses before and after."""
    one = d["one_step"]
    fig, ax = subplots(figsize=(6, 3))
    rows = [["position", "course", "probability_before", "probability_after", "penalty_before", "penalty_after"]]
    for i, (key, colour) in enumerate((("before", SKY), ("after", BLUE))):
        penalties = [-math.log(p) for _, p in one[key]]
        ax.bar([x + (i - 0.5) * 0.4 for x in range(len(penalties))], penalties, width=0.4, color=colour,
               label=w(f"step.{key}"))
    for pos, ((course, p0), (_, p1)) in enumerate(zip(one["before"], one["after"])):
        rows.append([pos + 1, course, p0, p1, -math.log(p0), -math.log(p1)])
    ax.set_xticks(range(len(one["before"])), [course_label(c, w) for c, _ in one["before"]])
    ax.set(xlabel=w("order.x"), ylabel=w("penalty_axis"),
           title=w("step.title", example=one["example"], before=f"{one['penalty_before']:.3f}",
                   after=f"{one['penalty_after']:.3f}"))
    ax.legend(frameon=False, fontsize=8)
    return fig, rows


def stage_names(d: dict, w):
    stages = d["stages"]
    n = max(len(s["names"]) for s in stages)
    fig, ax = subplots(figsize=(1.7 * len(stages) + 0.4, 0.26 * n + 0.9))
    for col, s in enumerate(stages):
        ax.text(col, n + 0.2, w("stages.dish", step=f"{s['step']:,}"), ha="center", weight="bold")
        for row, name in enumerate(s["names"]):
            ax.text(col, n - 1 - row, visible(name) or w("empty"), ha="center", family=monospace(), fontsize=8)
    ax.set(xlim=(-0.6, len(stages) - 0.4), ylim=(-0.6, n + 0.8), title=w("stages.title"))
    ax.axis("off")
    return fig, [["step", "name"]] + [[s["step"], name] for s in stages for name in s["names"]]


FIGURES = [loss_curve, adam_vs_sgd, stage_names, adam_step]
