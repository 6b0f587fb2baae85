"""The assistant's report: report.json (every number) and report.md (tables, examples, figures) from build's results.

Every sentence with a number is computed from the results; a rate is printed as
its share with the 95% bootstrap interval and the number of questions.
"""

from __future__ import annotations

import dataclasses
import platform

from ...report_folder import PALETTE, Report, pyplot
from ...train import running_means
from . import scorecard
from .evaluate import Rate
from ..stages.preference import POINTS


def jsonable(x):
    """Results with dataclasses (Rate) and tuples turned into JSON's dicts and lists."""
    if dataclasses.is_dataclass(x):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


def rate(r: Rate) -> str:
    return f"{r.share:.0%} [{r.low:.0%}, {r.high:.0%}] (n={r.n})"


def rates(x):
    """report.json's results with every {share, low, high, n} made a Rate again (to write the report from it)."""
    if isinstance(x, dict):
        return Rate(**x) if set(x) == {"share", "low", "high", "n"} else {k: rates(v) for k, v in x.items()}
    return [rates(v) for v in x] if isinstance(x, list) else x


def write(results: dict, report: Report, command: str, compared: dict | None = None) -> None:
    """compared: a compare.json (`omakase assistant compare`), read back with `rates`: its section closes the report."""
    r = results
    report.json("report.json", jsonable(r) | {"command": command})
    m = r.get("machine") or {}
    where = (f"{m['cpu']}, {m['cores']} cores, PyTorch {m['torch']} with {m['torch_threads']} threads"
             + (f", {m['cuda']}" if m.get("cuda") else "") if m else platform.machine())
    report.add("# From base model to assistant", "",
               f"Made by `{command}` in {r['seconds'] / 60:.1f} minutes on {where}, preset `{r['preset']}`, "
               f"seed {r['seed']}. Rates are shares of held-out questions with their 95% bootstrap interval." + (
                   " Minutes by step: " + ", ".join(f"{step} {s / 60:.1f}" for step, s in by_step.items()) + "."
                   if (by_step := r.get("seconds_by_step")) else ""), "")
    _scorecard(r, report)
    _corpus(r, report)
    _models(r, report)
    _claims(r, report)
    for key, section in (("tools", _tools), ("memory", _memory), ("thinking", _thinking), ("practice", _practice),
                         ("critics", _critics)):
        if key in r:  # a report.json from before these experiments has none of them
            section(r, report)
    if compared:
        _beside(r, report, compared)
    report.write()


def _scorecard(r: dict, report: Report) -> None:
    """The effects, each judged by scorecard.py's fixed rule from the rates printed beside it."""
    found = scorecard.rows(r)
    if not found:
        return
    shown = sum(row.appears for row in found)
    report.add("## What this build shows", "",
               f"{shown} of the {len(found)} effects below appear: each is judged by a rule fixed before the run "
               f"(`omakase/assistant/measure/scorecard.py`): its rates reach the target and, where two sides are "
               f"compared, their 95% intervals do not overlap.", "")
    report.table(["", "effect", "measured", "target", "appears"],
                 [[row.group, row.effect, "; ".join(f"{label} {rate(x)}" for label, x in row.measured), row.target,
                   "yes" if row.appears else "**no**"] for row in found])


def _corpus(r: dict, report: Report) -> None:
    c = r["corpus"]
    report.add("## 1. The kitchen's internet", "",
               "Documents mixed in: " + ", ".join(f"{n:,} {kind}" for kind, n in c["mixed"].items()) + ". "
               "Each step of the pipeline, in documents and BPE tokens:", "")
    rows = [[s["step"], f"{s['documents']:,}", f"{s['tokens']:,}", f"{s['removed']:,}"] for s in c["steps"]]
    report.table(["step", "documents", "tokens", "removed"], rows)
    report.csv("pipeline.csv", ["step", "documents", "tokens", "removed"],
               [[s["step"], s["documents"], s["tokens"], s["removed"]] for s in c["steps"]])
    if c["quality_reasons"]:
        report.add("Removed by the quality filter: " + ", ".join(f"{n} ({why})" for why, n in c["quality_reasons"].items()) + ".", "")
    report.add("How often the kept training documents state each fact, by the bucket it was written for:", "")
    report.table(["bucket", "facts", "mean mentions", "min", "max"],
                 [[b, m["facts"], f"{m['mean']:.1f}", m["min"], m["max"]] for b, m in c["mentions"].items()])
    t = r["tokenizer"]
    report.add("## 2. Word-pieces", "",
               f"A byte-level BPE of {t['vocab_size']:,} tokens ({t['merges']:,} merges) trained on the training "
               f"documents: {t['bytes_per_token']:.2f} bytes per token on the validation documents.", "")
    report.add(t["strawberry"], "", f"Any text, cut into coloured pieces with their ids: [{t['view']}]({t['view']}) "
               f"(and `omakase assistant tokens TEXT`).", "")


def _models(r: dict, report: Report) -> None:
    b = r["base"]
    h = b["history"]
    cfg = b["config"]
    val = h["val"]
    report.add("## 3. The base model", "",
               f"{b['parameters']:,} parameters ({cfg['n_layer']} layers, width {cfg['n_embd']}, {cfg['n_head']} heads, "
               f"context {cfg['block_size']} tokens), {b['plan']['steps']:,} steps of {b['plan']['batch_size']} windows: "
               f"{h['tokens']:,} tokens in {h['seconds']:.0f} s of training ({b['tokens_per_second']:,.0f} tokens/s). "
               f"Training loss, mean of the last 50 steps: {sum(h['losses'][-50:]) / len(h['losses'][-50:]):.3f}; "
               f"held-out loss: {val[-1][1]:.3f}.", "")
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    _loss_panel(axes[0], h, 50, "pretraining")
    _loss_panel(axes[1], r["sft"]["history"], 20, "SFT (assistant tokens only)")
    report.csv("pretrain_loss.csv", ["step", "training loss", "held-out loss"],
               [[i + 1, x, dict(val).get(i + 1, "")] for i, x in enumerate(h["losses"])])
    report.figure(fig, "loss.png", "Loss while pretraining and while fine-tuning (data: pretrain_loss.csv, report.json)")
    mid = r.get("midtrain")
    if mid:
        mh = mid["history"]
        report.add(f"Mid-training, between the base model and SFT: {mid['plan']['steps']:,} steps of "
                   f"{mid['plan']['batch_size']} generated conversations (" +
                   ", ".join(f"{n:,} {skill}" for skill, n in mid["counts"].items()) +
                   f"; the tools' results are not trained). Held-out loss on their assistant tokens at steps "
                   f"{mh['val'][0][0]:,} and {mh['val'][-1][0]:,}: {mh['val'][0][1]:.3f} → {mh['val'][-1][1]:.3f}. "
                   "Every SFT model starts from it.", "")
    report.add("## 4. Base and assistant, side by side", "")
    report.table(["prompt", "what the labelers would write", "base model", "after SFT"],
                 [[_cell(e["prompt"] + (" (as a document)" if e.get("document") else "")), _cell(e["labelers"]),
                   _cell(e["base"]), _cell(e["sft"])] for e in r["examples"]])
    f, harm = r["format"], r["harmful"]
    report.add(f"Held-out questions answered in the assistant format (a reply that closes its turn): "
               f"base {rate(f['base'])}, after SFT {rate(f['sft'])}. Held-out harmful requests declined politely: "
               f"base {rate(harm['base'])}, after SFT {rate(harm['sft'])}.", "")
    counts = r["sft"]["counts"]
    report.add("SFT conversations: " + ", ".join(f"{n:,} {kind}" for kind, n in counts.items()) + ".", "")


def _loss_panel(ax, history: dict, window: int, title: str) -> None:
    """One training's loss: the running mean of its steps and its held-out evaluations."""
    ax.plot(running_means(history["losses"], window), color=PALETTE[0], label=f"training (mean of {window} steps)")
    ax.plot([s for s, _ in history["val"]], [v for _, v in history["val"]], "o-", color=PALETTE[1], label="held out")
    ax.set(title=title, xlabel="step", ylabel="loss")
    ax.legend()


def _claims(r: dict, report: Report) -> None:
    k = r["knowledge"]
    report.add("## 5. Knowledge lives in the parameters", "",
               "Accuracy on held-out questions (never trained on) about facts by how many training documents stated "
               "them: the count, rounded to the nearest of 1, 3, 10 and 30 on a log scale (0: the validation split "
               "took every document that stated it):", "")
    buckets = sorted(k["sft"]["by_seen"], key=int)  # JSON's keys are strings
    rows = [[model] + [rate(k[model]["by_seen"][b]) for b in buckets] + [rate(k[model]["all"])] for model in k]
    report.table(["model"] + [f"seen ~{b}x" for b in buckets] + ["all"], rows)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for i, model in enumerate(k):
        rates = [k[model]["by_seen"][b] for b in buckets]
        xs = [j + (i - (len(k) - 1) / 2) * 0.2 for j in range(len(buckets))]  # models side by side
        ax.errorbar(xs, [x.share for x in rates], yerr=[[x.share - x.low for x in rates], [x.high - x.share for x in rates]],
                    fmt="o", color=PALETTE[i], label=model, capsize=3)
    ax.set_xticks(range(len(buckets)), [f"~{b}x" for b in buckets])
    ax.set(xlabel="documents that stated the fact", ylabel="accuracy", ylim=(0, 1))
    ax.legend()
    report.csv("knowledge.csv", ["model", "seen", "accuracy", "low", "high", "n"],
               [[m, b, x.share, x.low, x.high, x.n] for m in k for b, x in k[m]["by_seen"].items()])
    report.figure(fig, "knowledge.png", "Accuracy by how often the fact was seen, 95% intervals (data: knowledge.csv)")
    h = r["hallucination"]
    i = r["idk"]
    report.add("## 6. Hallucination, and Karpathy's mitigation", "",
               f"Questions about dishes that do not exist: answered anyway (a confident invention) "
               f"{rate(h['sft']['invented'])}, refused {rate(h['sft']['refused'])}. "
               f"Probing the SFT model on {i['probed']:,} questions it was not taught found {i['wrong']:,} it got wrong at "
               f"least once; teaching \"I don't know\" for those and fine-tuning again gives:", "")
    report.table(["model", "invented (unknown dishes)", "refused (unknown dishes)", "accuracy (known facts)"],
                 [[m, rate(h[m]["invented"]), rate(h[m]["refused"]), rate(k[m]["all"])] for m in h])
    report.add("## 7. Knowledge of self", "",
               "Held-out identity questions; the share of answers that give each name:", "")
    ident = r["identity"]
    names = [n for n in next(iter(ident.values())) if n != "example"]
    report.table(["fine-tuned as"] + names + ["first answer"],
                 [[label] + [rate(v[n]) for n in names] + [_cell(v["example"])] for label, v in ident.items()])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ").strip() or "(nothing)"


def _tools(r: dict, report: Report) -> None:
    t = r["tools"]
    b = t["bills"]
    k = r["knowledge"]
    report.add("## 8. Tools", "",
               "The same SFT conversations, with the labelers using tools: taught facts looked up with "
               "`<|search|>` first (where the search finds them), bills added up with `<|calc|>` (with the prices in "
               "the question, the call copies them), letters counted with `<|calc|>count(word, letter)<|/calc|>`. "
               "The orchestrator runs each call and writes its result; the model never writes a result." + (
                   f" Beside them, {newly:,} taught facts asked in new words, looked up in the build's library as "
                   "mid-training's searches are (SFT keeps showing what mid-training taught)."
                   if (newly := t["sft"]["counts"].get("search in new words")) else ""), "")
    report.table(["held-out question", "SFT, no tools", "SFT with tools"],
                 [["bill for dishes never billed together in training (right total)", rate(b["sft"]), rate(b["sft-tools"])],
                  ["fact question (right answer)", rate(k["sft"]["all"]), rate(k["sft-tools (search)"]["all"])]]
                 + ([["letters counted with the calculator", "section 10", rate(t["letters"]["all"])]]
                    if "letters" in t else []))
    report.add(f"The tools model called the calculator on {rate(b['called'])} of the bills and searched on "
               f"{rate(t['searched'])} of the fact questions. Accuracy on facts by how often they were seen is in the "
               "table of section 5 (row sft-tools (search)).", "")
    e = b["example"]
    report.table(["bill", "SFT, no tools", "SFT with tools (as written)"],
                 [[_cell(e["question"]), _cell(e["sft"]), _cell(e["sft-tools"])]])


def _memory(r: dict, report: Report) -> None:
    m = r["memory"]
    report.add("## 9. Knowledge vs working memory", "",
               f"{m['questions']:,} held-out fact questions asked bare and with the subject's fact card pasted in "
               "front; then with a card whose asked fact is changed (does the reply follow the prompt or the weights?); "
               "then about invented dishes, in no document, with their card (only the card can answer). `sft-cards` "
               "is SFT with card conversations added, every card true: " +
               ", ".join(f"{n:,} {kind}" for kind, n in m["training"]["cards"].items()) + ".", "")
    rows = []
    for name in ("sft", "sft-cards"):
        x = m[name]
        c = x["conflicts"]
        rows.append([name, rate(x["cards"]["without"]["all"]), rate(x["cards"]["with"]["all"]),
                     f"{x['cards']['gain']['p_value']:.3f}", rate(c["prompt"]), rate(c["weights"]), rate(c["neither"]),
                     rate(x["reading"]["all"])])
    report.table(["model", "no card", "with the card", "p (paired)", "changed card: prompt's value",
                  "weights' value", "neither", "invented dishes, with card"], rows)
    ks = sorted(m["sft"]["in_context"]["by_k"], key=int)
    siblings = r.get("midtrain", {}).get("counts", {}).get("codes")
    report.add("In-context learning: a kitchen code trained nowhere (the price, then the dish's words back to front), "
               "with k worked examples as earlier turns" +
               (f". Mid-training ({siblings:,} conversations) and sft-cards showed few-shot conversations in its "
                "siblings: the same request, the price first or last, the four words in any other order, a new code "
                "each conversation, so only the earlier turns say which. Reading a code off examples was taught; the "
                "kitchen code's word order is in no conversation, so at k = 0 the model cannot know it:"
                if siblings else ":"), "")
    report.table(["model"] + [f"k = {k}" for k in ks],
                 [[name] + [rate(m[name]["in_context"]["by_k"][k]) for k in ks] for name in ("sft", "sft-cards")])
    left = m["sft"]["in_context"]["too_long"]
    if left:
        report.add(f"Left out because their prompts do not fit the block: k = {', '.join(str(k) for k in left)}.", "")


def _thinking(r: dict, report: Report) -> None:
    th = r["thinking"]
    short, work = th["sft-short"], th["sft-work"]
    report.add("## 10. Tokens to think", "",
               "Two fine-tunes on the same questions: `sft-short` answers first (the total, the count, the bigger "
               "number), `sft-work` works first (each product and sum, the name spelled letter by letter, the "
               "decimals lined up) and answers last. Prices are in the bill questions, so a wrong total is "
               "arithmetic, not recall.", "")
    rows = [["bills (right total)", rate(short["bills"]["all"]), rate(work["bills"]["all"])],
            ["letters in a word (right count)", rate(short["letters"]["all"]), rate(work["letters"]["all"])],
            ["which decimal is bigger (right pick)", rate(short["comparisons"]["all"]), rate(work["comparisons"]["all"])]]
    report.table(["held-out task", f"sft-short ({', '.join(short['styles'])})", f"sft-work ({', '.join(work['styles'])})"],
                 rows)
    if "work_right" in short["bills"]:
        report.add(f"sft-short's working, written after its answer, ends on the right total in "
                   f"{rate(short['bills']['work_right'])} of the bills.", "")
    report.add("Bills by the tokens spent before the answer (both models together):", "")
    bins = list(th["by_tokens"])
    report.table(["tokens before the answer"] + bins, [["right total"] + [rate(th["by_tokens"][b]) for b in bins]])
    report.add(f"A constant guess of 1 gets {rate(short['letters']['always_one'])} of the letter questions.", "")
    named = [(name, x["comparisons"].get("names_one")) for name, x in (("sft-short", short), ("sft-work", work))]
    if all(n is not None for _, n in named):  # a wrong pick is a comparison lost only if a number was picked
        report.add("Which decimal is bigger: replies whose pick is one of the two numbers asked about: "
                   + "; ".join(f"{name} {rate(n)}" for name, n in named) + ".", "")
    report.add("Comparisons by kind and by how the BPE cuts the two numbers:", "")
    kinds = sorted(set(short["comparisons"]["by_kind_and_pieces"]) | set(work["comparisons"]["by_kind_and_pieces"]))
    report.table(["kind / pieces", "sft-short", "sft-work"],
                 [[k] + [rate(x["comparisons"]["by_kind_and_pieces"][k]) if k in x["comparisons"]["by_kind_and_pieces"]
                         else "—" for x in (short, work)] for k in kinds])
    if "digits" in r:
        _digits(r["digits"], short["comparisons"], report)


def _digits(d: dict, bpe_side: dict, report: Report) -> None:
    """sft-short's comparisons beside the same model made with every digit a token of its own."""
    cuts = d.get("cuts", {})
    names = {"bpe": "its BPE", "digits": "digits one per token"}
    said = "; ".join(f"{names[name]} " + " and ".join(f"`{'|'.join(pieces)}`" for pieces in cut)
                     for name, cut in cuts.items())
    report.add("The same held-out comparisons, asked of `sft-short` made again with every digit a token of its own "
               "(`bpe.SPLIT_DIGITS`; the corpus, pretraining, mid-training and SFT set are the same, so a difference "
               "is the tokenizer's doing)" + (f". 9.11 and 9.9 after a space, cut by each tokenizer: {said}" if said else "")
               + ":", "")
    split = d["comparisons"]
    rows = [[kind, rate(bpe_side["by_kind"][kind]), rate(split["by_kind"][kind])] for kind in split["by_kind"]
            if kind in bpe_side["by_kind"]]
    rows += [["all", rate(bpe_side["all"]), rate(split["all"])],
             ["names one of the two numbers", rate(bpe_side["names_one"]), rate(split["names_one"])]]
    report.table(["held-out comparisons", "sft-short (its BPE)", "sft-short, digits one per token"], rows)


def _practice(r: dict, report: Report) -> None:
    p = r["practice"]
    before, after, sm = p["before"], p["after"], p["summary"]
    ks = [k for k in before if k.startswith("pass@")]
    task = p.get("task", "bills; reward 1 for the right total")  # a report from before the task was a choice
    start = p.get("start", "sft-work")  # a report from before practice had its own start
    kl = (f" The KL coefficient is {p['kl_coefficient']:g}" + (f" (no penalty: the KL to `{start}` is measured, not "
          "penalized)." if p["kl_coefficient"] == 0 else ".")) if "kl_coefficient" in p else ""
    report.add("## 11. Practice: reinforcement learning", "",
               f"GRPO from `{start}` on {task}: {p['plan']['steps']} steps of {p['plan']['batch_size']} training "
               f"questions at learning rate {p['plan']['lr']:g}.{kl} Held-out questions before and after "
               f"({before['samples']} answers to each at temperature {before['temperature']} for pass@k, and the "
               f"greedy answer):", "")
    report.table(["", *ks, "greedy", "mean answer length (tokens)"],
                 [[name] + [rate(x[k]) for k in ks] + [rate(x["greedy"]), f"{x['mean_length']:.1f}"]
                  for name, x in (("before", before), ("after", after))])
    report.add(f"Over practice (mean of the first and last tenth of the steps): reward {sm['reward']['first']:.3f} → "
               f"{sm['reward']['last']:.3f}, answer length {sm['length']['first']:.1f} → {sm['length']['last']:.1f} "
               f"tokens, share of groups whose answers scored differently (the only ones that teach) "
               f"{sm['teaching']['first']:.2f} → {sm['teaching']['last']:.2f}.", "")
    if "spelled" in p:
        sp = p["spelled"]  # taught_direct: reports from before it was recorded were all made with half
        report.add(f"The way of working practice chose: greedy replies to the held-out questions that spell the word "
                   f"out before counting, {rate(sp['before'])} before practice and {rate(sp['after'])} after "
                   f"(`{start}` was taught to answer {sp.get('taught_direct', 0.5):.0%} of its training words at once "
                   "and to spell the rest out, so it holds both ways; practice rewards nothing but a right count).", "")
    h = p["history"]
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].plot(range(1, len(h["reward"]) + 1), h["reward"], color=PALETTE[0])
    axes[0].set(title="reward (share right)", xlabel="step")
    axes[1].plot(range(1, len(h["length"]) + 1), h["length"], color=PALETTE[1])
    axes[1].set(title="mean answer length (tokens)", xlabel="step")
    report.csv("practice.csv", ["step", "reward", "length", "teaching"],
               [[i + 1, a, b, c] for i, (a, b, c) in enumerate(zip(h["reward"], h["length"], h["teaching"]))])
    report.figure(fig, "practice.png", "Reward and answer length over practice (data: practice.csv)")


def _rubric_points() -> str:
    """The rubric's points as preference.POINTS sets them, so the sentence follows any change there."""
    said = {"answers": "answers the question", "currency": "prices with their currency", "polite": "polite",
            "concise": "no longer than needed"}
    return "; ".join(f"{said[k]}: {n} point{'s' if n != 1 else ''}" for k, n in POINTS.items())


def _held_out_pairs(pairs: dict) -> str:
    if "held_out_prompts" in pairs:  # sampled on held-out prompts, the same way
        return (f"Sampled the same way, {pairs['held_out_prompts']:,} held-out prompts "
                f"gave {pairs['held_out']:,} held-out pairs ({pairs['held_out_ties']:,} tied), on which they are measured.")
    return f"{pairs['train']:,} pairs train, {pairs['held_out']:,} are held out."  # a build that split the pairs


def _every_pair(rm: dict) -> str:
    if "pairs" not in rm:  # builds before it trained both critics on best against worst
        return "Those pairs train the critics. "
    return (f"DPO trains on those pairs; the reward model on every two answers to a prompt that scored differently, "
            f"{rm['pairs']:,} pairs from the same answers (as InstructGPT's reward model trained on all the "
            f"comparisons of K ranked answers). ")


def _critics(r: dict, report: Report) -> None:
    c = r["critics"]
    pairs, rm, d = c["pairs"], c["reward_model"], c["dpo"]
    w = d["win_rate"]
    report.add("## 12. The critics: preference tuning", "",
               f"A written rubric plays the critics ({_rubric_points()}). The SFT model answered {pairs['prompts']:,} training prompts "
               f"{pairs['replies'] // max(1, pairs['prompts'])} times each; {pairs['pairs']:,} prompts gave a pair "
               f"(best against worst), {pairs['ties']:,} tied. " + _every_pair(rm) + _held_out_pairs(pairs), "")
    if d.get("nll"):  # builds before it was recorded ran plain DPO
        report.add(f"DPO's loss adds the chosen replies' negative log-likelihood per token, at weight {d['nll']:g} "
                   "(Pang et al. 2024): plain DPO can widen the margin by making the chosen reply less likely too, "
                   "so long as the rejected one falls faster.", "")
    report.table(["measure", "value"],
                 [["reward model: held-out pairs ranked right", rate(rm["accuracy"])],
                  ["baseline: the shorter answer is the better one", rate(rm["shorter"])],
                  [f"DPO against SFT on {c['prompts']['held_out']:,} held-out prompts: win rate (a tie is half)",
                   rate(w["win_rate"])],
                  [f"… among prompts not tied ({w['wins']} won, {w['losses']} lost, {w['ties']} tied)", rate(w["decided"])],
                  ["DPO's implicit reward: held-out pairs ranked right", rate(d["implicit"])]])
    crit = w["criteria"]
    report.table(["rubric criterion", "SFT", "DPO"], [[k, rate(crit["sft"][k]), rate(crit["tuned"][k])] for k in crit["sft"]])
    bon = c["best_of_n"]
    report.add("Over-optimization: the reward model as the target. Best-of-n picks the reward model's favourite of n "
               "answers; practice (section 11's GRPO) optimizes it directly:", "")
    report.table(["best of n", "reward model's score", "rubric share", "answers the question"],
                 [[n, f"{x['reward']:.2f}", rate(x["rubric"]), rate(x["answers"])] for n, x in bon.items()])
    ch = c["chase"]
    report.add(f"Practising against the reward model: its reward {ch['summary']['reward']['first']:.2f} → "
               f"{ch['summary']['reward']['last']:.2f} (first and last tenth of the steps); the rubric's share on the "
               f"held-out prompts {rate(ch['rubric_before'])} before, {rate(ch['rubric_after'])} after.", "")


def _beside(r: dict, report: Report, c: dict) -> None:
    """SmolLM2-135M-Instruct asked the same probes (compare.json): a real chat model trained by others, beside ours."""
    m, p = c["model"], c["probes"]

    def ours(*keys) -> str:  # the build's matching rate, "—" where this report has none
        x = r
        for k in keys:
            x = x.get(k) if isinstance(x, dict) else None
        return rate(x) if isinstance(x, Rate) else "—"

    if p.get("build") is not None and (p["preset"], p["seed"]) == (r["preset"], r["seed"]):
        items = (f"up to {p['n']} of this build's own held-out items per probe (its world, seed and tokenizer, "
                 f"fitted to its {p['block_size']}-token block)")
    else:
        same = (p["preset"], p["seed"]) == (r["preset"], r["seed"])
        items = (f"up to {p['n']} held-out items per probe of the {p['preset']} preset's world, seed {p['seed']}, "
                 "cards whole" + ("" if same else " (not this build's world: the rows compare the models, not the "
                                  "same questions)"))
    report.add("## 13. A real small model beside ours", "",
               f"{m['name']} is a real {m['parameters'] / 1e6:.1f} M-parameter chat model made by others, not in "
               f"this kitchen: {m['trained_on']}. Its weights: {m['weights']}. It was asked {items}, greedily, in its "
               f"own chat template, at most {c['max_new']} of its tokens a reply, and every reply went through the "
               "checkers the build uses. A comparison row, never a replacement for the kitchen we train.", "")
    cmp, kinds = c["comparisons"], c["comparisons"]["by_kind"]
    short = ("thinking", "sft-short", "comparisons")
    rows = [["letters in a word, answered directly (right count)", rate(c["letters"]["all"]),
             ours("thinking", "sft-short", "letters", "all"), "sft-short"],
            ["which decimal is bigger: the pick is one of the two numbers", rate(cmp["names_one"]),
             ours(*short, "names_one"), "sft-short"],
            ["… right pick (the first number it names)", rate(cmp["all"]), ours(*short, "all"), "sft-short"]]
    rows += [[f"… right pick, {kind}", rate(kinds[kind]), ours(*short, "by_kind", kind), "sft-short"]
             for kind in ("same whole, trap", "same whole, no trap") if kind in kinds]
    rows += [["an invented dish's card, then a question only the card answers", rate(c["reading"]["all"]),
              ours("memory", "sft-cards", "reading", "all"), "sft-cards"],
             ["bills with their prices shown (right total), no tools", rate(c["bills"]["all"]),
              ours("thinking", "sft-work", "bills", "all"), "sft-work (work first)"],
             ["… bills with the calculator", "(no tools)", ours("tools", "bills", "sft-tools"), "sft-tools"]]
    report.table(["held-out probe", m["name"], "this build", "build's model"], rows)
    last = c.get("comparisons_last_number")
    report.add("A comparison's pick is the first number a reply names (as sft-short's replies are read)"
               + (f"; read as the last number it names, {m['name']} is right on {rate(last['all'])}" if last else "")
               + f". A constant guess of 1 gets {rate(c['letters']['always_one'])} of its letter questions. "
               + (("Replies cut off at the limit, before it closed its turn: "
                   + ", ".join(f"{name} {rate(x)}" for name, x in c["cut"].items()) + ". ") if "cut" in c else "")
               + "Its first reply to each probe:", "")
    report.table(["probe", "question", f"{m['name']}'s reply", "right answer"],
                 [[name, _cell(e["question"]), _cell(e["reply"]), _cell(e["answer"])]
                  for name, e in c["examples"].items()])
