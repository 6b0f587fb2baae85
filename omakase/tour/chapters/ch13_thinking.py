"""Chapter 13, tokens to think and jagged intelligence: working before answering, counting letters the model
never sees, and 9.11 against 9.9 traced to the pieces."""

from __future__ import annotations

from ..drawing import BLUE, GREEN, GREY, ORANGE, subplots
from ..second_half import AssistantRun, overlap, pieces, rate, run_info, run_line, share, tag
from ..story import Catalogue, Figure, Para, Question, Table

NUMBERS = ("9.11", "9.9")  # the video's example


def measure(run: AssistantRun) -> dict:
    r = run.report
    th = r.get("thinking", {})
    models = [m for m in ("sft-short", "sft-work") if m in th]
    tasks = {task: {m: th[m][task]["all"] for m in models} for task in ("bills", "letters", "comparisons")
             if all(task in th[m] for m in models)}
    letters = r.get("tools", {}).get("letters", {})
    d = {"run": run_info(run), "models": models, "tasks": tasks, "always_one": letters.get("always_one"),
         "calculator": letters.get("all"), "by_tokens": th.get("by_tokens", {}), "live": run.tokenizer is not None,
         # how often a reply names one of the two numbers at all: below half, the comparison cannot show the trap
         "named": {m: th[m].get("comparisons", {}).get("names_one") for m in models}}
    if run.tokenizer is not None:
        d["numbers"] = {n: pieces(run.tokenizer, " " + n) for n in NUMBERS}
    if "digits" in r and "sft-short" in th:  # sft-short made again with every digit a token (build.digits_experiment)
        d["digits"] = {"bpe": th["sft-short"]["comparisons"]["by_kind"], "split": r["digits"]["comparisons"]["by_kind"]}
    return d


def tell(d: dict, t: Catalogue) -> list:
    run = tag(d["run"], t)
    blocks = [Para(run_line(d["run"], t)), Para(t("ch13.compute"))]
    if d["tasks"]:
        blocks.append(Table([t("col.task")] + [t(f"ch13.model.{m}") for m in d["models"]],
                            [[t(f"ch13.task.{task}")] + [rate(r[m]) for m in d["models"]]
                             for task, r in d["tasks"].items()]))
        apart = [task for task, r in d["tasks"].items() if len(d["models"]) == 2 and not overlap(*r.values())]
        blocks.append(Para(t("ch13.no_effect", run=run) if not apart else
                           t("ch13.effect", tasks=t.join(t(f"ch13.task.{x}") for x in apart), run=run)))
    if "letters" in d["tasks"] and d["always_one"]:
        best = max(d["tasks"]["letters"].values(), key=lambda r: r["share"])
        blocks += [Para(t("ch13.letters", always=rate(d["always_one"]), best=rate(best),
                          calculator=rate(d["calculator"]), run=run)),
                   Figure("letters", t("fig.letters.alt" if best["share"] <= d["always_one"]["share"]
                                       else "fig.letters.beats", always=share(d["always_one"]["share"]),
                                       best=share(best["share"])))]
    blocks.append(Question(*question(d, t)))
    if "comparisons" in d["tasks"]:
        named = {m: d["named"][m] for m in d["models"] if d["named"].get(m)}
        cannot = named and all(r["high"] < 0.5 for r in named.values())
        blocks.append(Para(t("ch13.comparisons" if cannot else "ch13.comparisons_plain", named=by_model(named, t),
                             rates=by_model(d["tasks"]["comparisons"], t), run=run)))
    if d.get("digits"):
        blocks.append(Para(digits_sentence(d["digits"], t, run)))
    blocks += [Para(t("ch13.jagged")),
               Table([t("col.kitchen"), t("col.real")],
                     [[t("ch13.k.work"), t("ch13.r.cot")], [t("ch13.k.pieces"), t("ch13.r.tokens")],
                      [t("ch13.k.cheese"), t("ch13.r.jagged")]])]
    return blocks


def digits_sentence(digits: dict, t, run: str) -> str:
    """The trap pairs and the plain ones, answered by sft-short with its own BPE and with every digit a token,
    and whether the tokenizer moved the trap's rate beyond the intervals."""
    bpe, split = digits["bpe"], digits["split"]
    trap, plain = "same whole, trap", "same whole, no trap"
    said = t("ch13.digits", model=t("ch13.model.sft-short"), split_trap=rate(split[trap]), bpe_trap=rate(bpe[trap]),
             split_plain=rate(split[plain]), bpe_plain=rate(bpe[plain]), run=run)
    return said + " " + t("ch13.digits.overlap" if overlap(split[trap], bpe[trap]) else "ch13.digits.apart")


def by_model(rates: dict, t) -> str:
    """Rates by fine-tune, in the reader's words: "answer first 2% [0%, 4%] (n=200), work first ..."."""
    return t.join(f"{t('ch13.model.' + m)} {rate(r)}" for m, r in rates.items())


def question(d: dict, t) -> tuple[str, str]:
    """Chapter 9 showed that digits are cut into runs: the reader can predict the pieces of 9.11 and 9.9, and
    see that the comparison the model would have to make is between ids, not magnitudes."""
    a, b = NUMBERS
    if not d["live"]:
        return t("q13.ask", a=a, b=b), t("q13.no_answer")
    cut = {n: " + ".join(f"'{p['text'].replace(' ', '␣')}' ({p['id']})" for p in ps)
           for n, ps in d["numbers"].items()}
    # what follows the point, as pieces: one piece each ("11" against "9"), or digit by digit
    after = {n: [p["text"] for p in ps][[p["text"] for p in ps].index(".") + 1:] if "." in [p["text"] for p in ps]
             else [] for n, ps in d["numbers"].items()}
    whole = len(after[a]) == 1 and len(after[b]) == 1
    return t("q13.ask", a=a, b=b), t("q13.answer" if whole else "q13.answer_digits", a=a, b=b, cut_a=cut[a],
                                     cut_b=cut[b], n_a=len(d["numbers"][a]), n_b=len(d["numbers"][b]),
                                     after_a="".join(after[a]), after_b="".join(after[b]))


def letters(d: dict, w):
    """Letters counted right by each model, against always answering 1, with 95% intervals."""
    fig, ax = subplots(figsize=(6, 3))
    bars = [(w(f"letters.{m}"), d["tasks"]["letters"][m], colour)
            for m, colour in zip(d["models"], (BLUE, ORANGE))]
    if d["calculator"]:
        bars.append((w("letters.calculator"), d["calculator"], GREEN))
    rows = [["model", "share", "low", "high", "n"]]
    for i, (name, r, colour) in enumerate(bars):
        ax.barh(i, 100 * r["share"], color=colour,
                xerr=[[100 * (r["share"] - r["low"])], [100 * (r["high"] - r["share"])]], capsize=3)
        ax.annotate(share(r["share"]), (100 * r["high"], i), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=8)
        rows.append([name, r["share"], r["low"], r["high"], r["n"]])
    one = d["always_one"]
    ax.axvline(100 * one["share"], color=GREY, linestyle="--", label=w("letters.always_one", share=share(one["share"])))
    rows.append(["always 1", one["share"], one["low"], one["high"], one["n"]])
    ax.set_yticks(range(len(bars)), [b[0] for b in bars])
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel=w("letters.x"), title=w("letters.title"))
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return fig, rows


FIGURES = [letters]
