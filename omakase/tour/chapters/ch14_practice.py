"""Chapter 14, practice and the critics: reinforcement learning on the build's practice task (GRPO), a reward
model and DPO trained on a rubric's rankings, and over-optimization (a proxy that rises while the target does
not)."""

from __future__ import annotations

from ..drawing import BLUE, GREY, ORANGE, subplots
from ..second_half import AssistantRun, overlap, rate, run_info, run_line, share, tag
from ..story import Catalogue, Figure, Para, Question, Table


def measure(run: AssistantRun) -> dict:
    r = run.report
    p, c = r.get("practice", {}), r.get("critics", {})
    teaching = p.get("history", {}).get("teaching", [])
    best = c.get("best_of_n", {})
    return {"run": run_info(run), "before": p.get("before"), "after": p.get("after"),
            "task": p.get("task_name", "bills"),  # a build from before the task was chosen practised on bills
            "spelled": p.get("spelled"),  # letters: greedy replies that spell the word out, before and after
            "steps": len(teaching), "teaching_steps": [i + 1 for i, x in enumerate(teaching) if x > 0],
            "reward": p.get("summary", {}).get("reward"), "pairs": c.get("pairs", {}),
            "reward_model": c.get("reward_model", {}).get("accuracy"),
            "shorter": c.get("reward_model", {}).get("shorter"), "implicit": c.get("dpo", {}).get("implicit"),
            "win": {k: v for k, v in c.get("dpo", {}).get("win_rate", {}).items() if k != "criteria"},
            "criteria": c.get("dpo", {}).get("win_rate", {}).get("criteria", {}),
            "best_of_n": [{"n": int(n), "reward": b["reward"], "rubric": b["rubric"], "answers": b["answers"]}
                          for n, b in sorted(best.items(), key=lambda x: int(x[0]))],
            "chase": c.get("chase")}


def tell(d: dict, t: Catalogue) -> list:
    run = tag(d["run"], t)
    task = d["task"] if d["task"] in ("bills", "letters") else "other"
    blocks = [Para(run_line(d["run"], t)), Para(t("ch14.practice", task=t(f"ch14.task.{task}")))]
    still = True  # practice moved no held-out rate beyond its interval
    if d["before"]:
        b, a = d["before"], d["after"]
        moved = [k for k in ("pass@1", "pass@8", "greedy") if not overlap(b[k], a[k])]
        still = not moved
        blocks += [Table(["", "pass@1", "pass@8", t("col.greedy")],
                         [[t("col.before"), rate(b["pass@1"]), rate(b["pass@8"]), rate(b["greedy"])],
                          [t("col.after"), rate(a["pass@1"]), rate(a["pass@8"]), rate(a["greedy"])]]),
                   Para(t("ch14.nothing_to_learn" if d["teaching_steps"] else "ch14.never_taught", steps=d["steps"],
                          taught=len(d["teaching_steps"]),
                          moved=t("ch14.still") if still else
                          t("ch14.moved", which=t.join(f"{k} {rate(b[k])} → {rate(a[k])}" for k in moved)),
                          first=f"{d['reward']['first']:.3f}", last=f"{d['reward']['last']:.3f}", run=run))]
        if d.get("spelled"):
            sp = d["spelled"]
            # reports from before the share was recorded were all made with half of the words answered at once
            blocks.append(Para(t("ch14.chose", direct=share(sp.get("taught_direct", 0.5)), before=rate(sp["before"]),
                                 after=rate(sp["after"]), run=run, verdict=t(f"ch14.chose.{_moved(sp['before'], sp['after'])}"))))
    if d["reward_model"]:
        blocks.append(Para(t("ch14.critics", pairs=f"{d['pairs'].get('held_out', 0):,}", rm=rate(d["reward_model"]),
                             shorter=rate(d["shorter"]), implicit=rate(d["implicit"]), run=run,
                             apart=t("ch14.apart") if not overlap(d["reward_model"], d["shorter"])
                             else t("ch14.overlap"))))
    if d["win"]:
        w = d["win"]
        crit = d["criteria"]
        blocks.append(Para(t("ch14.dpo", win=rate(w["win_rate"]), wins=w["wins"], losses=w["losses"], ties=w["ties"],
                             answers_sft=rate(crit["sft"]["answers"]), answers_dpo=rate(crit["tuned"]["answers"]),
                             concise_sft=rate(crit["sft"]["concise"]), concise_dpo=rate(crit["tuned"]["concise"]),
                             run=run)))
    if d["best_of_n"]:
        blocks.append(Question(*question(d, t)))
        first, last = d["best_of_n"][0], d["best_of_n"][-1]
        blocks.append(Figure("proxy", t("fig.proxy.alt", n=last["n"], r1=f"{first['reward']:.2f}",
                                        rn=f"{last['reward']:.2f}", s1=share(first["rubric"]["share"]),
                                        sn=share(last["rubric"]["share"]))))
    if d["chase"]:
        ch = d["chase"]
        blocks.append(Para(t("ch14.chase", first=f"{ch['summary']['reward']['first']:.2f}",
                             last=f"{ch['summary']['reward']['last']:.2f}", before=rate(ch["rubric_before"]),
                             after=rate(ch["rubric_after"]), run=run)))
    # the general lesson, then what this run's practice against the critic did to the rubric (it may not agree)
    chased = t(f"ch14.why.{_moved(d['chase']['rubric_before'], d['chase']['rubric_after'])}") if d["chase"] else ""
    blocks += [Para(t.sentences(t("ch14.why"), chased, t("ch14.why.checked"), t("ch14.too_small") if still else "")),
               Table([t("col.kitchen"), t("col.real")],
                     [[t("ch14.k.practice"), t("ch14.r.rl")], [t("ch14.k.critic"), t("ch14.r.reward_model")],
                      [t("ch14.k.choose"), t("ch14.r.dpo")], [t("ch14.k.flatter"), t("ch14.r.overoptimization")]])]
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    """The critic ranks only part of the pairs right: the reader predicts what picking the critic's favourite of
    more answers does to the rubric it was trained to imitate; the answer says what this run measured and what
    that teaches (a flat rubric, a rising one, a falling one)."""
    first, last = d["best_of_n"][0], d["best_of_n"][-1]
    shares = [b["rubric"]["share"] for b in d["best_of_n"]]
    moved = _moved(first["rubric"], last["rubric"])
    return (t("q14.ask", n=last["n"], r1=f"{first['reward']:.2f}", rn=f"{last['reward']:.2f}",
              rm=rate(d["reward_model"]), run=tag(d["run"], t)),
            t("q14.answer", n=last["n"], s1=rate(first["rubric"]), sn=rate(last["rubric"]),
              lo=share(min(shares)), hi=share(max(shares)), run=tag(d["run"], t),
              verdict=t(f"q14.{moved}"), lesson=t(f"q14.lesson.{moved}")))


def summary_key(d: dict) -> str:
    """The one line says a critic's score can rise while quality does not, unless this run's best-of-n showed the
    rubric rising with the score: then it says what the run showed (and, when practice against the critic made
    the rubric fall beyond its interval, that too)."""
    chased_down = bool(d["chase"]) and _moved(d["chase"]["rubric_before"], d["chase"]["rubric_after"]) == "down"
    if d["best_of_n"] and _moved(d["best_of_n"][0]["rubric"], d["best_of_n"][-1]["rubric"]) == "up":
        return "ch14.summary_critic_chased" if chased_down else "ch14.summary_critic_right"
    return "ch14.summary"


def _moved(before: dict, after: dict) -> str:
    """Which way a rate moved, as its intervals tell: "same" (they overlap), "up" or "down"."""
    return "same" if overlap(before, after) else "up" if after["share"] > before["share"] else "down"


def proxy(d: dict, w):
    """Best-of-n: the reward model's score of its pick, and the rubric's share of the same picks (95% intervals)."""
    fig, (left, right) = subplots(1, 2, figsize=(7.5, 3))
    ns = [b["n"] for b in d["best_of_n"]]
    left.plot(ns, [b["reward"] for b in d["best_of_n"]], "o-", color=ORANGE)
    left.set(xscale="log", xticks=ns, xticklabels=[str(n) for n in ns], xlabel=w("proxy.n"),
             ylabel=w("proxy.reward"), title=w("proxy.left"))
    left.minorticks_off()
    rub = [b["rubric"] for b in d["best_of_n"]]
    right.errorbar(ns, [100 * r["share"] for r in rub], capsize=3, fmt="o-", color=BLUE,
                   yerr=[[100 * (r["share"] - r["low"]) for r in rub], [100 * (r["high"] - r["share"]) for r in rub]])
    right.set(xscale="log", xticks=ns, xticklabels=[str(n) for n in ns], xlabel=w("proxy.n"),
              ylabel=w("proxy.rubric"), ylim=(0, 100), title=w("proxy.right"))
    right.minorticks_off()
    right.axhline(100 * rub[0]["share"], color=GREY, linewidth=0.5, linestyle=":")
    return fig, [["n", "reward_model_score", "rubric_share", "rubric_low", "rubric_high", "n_prompts"]] + [
        [b["n"], b["reward"], b["rubric"]["share"], b["rubric"]["low"], b["rubric"]["high"], b["rubric"]["n"]]
        for b in d["best_of_n"]]


FIGURES = [proxy]
