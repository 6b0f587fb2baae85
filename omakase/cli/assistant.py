"""`omakase assistant`: from base model to assistant (build every stage, chat, see the tokens).

Thin: check the inputs before any work, call omakase.assistant, show progress and the answers.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import OmakaseError
from .common import console, writable_folder

app = typer.Typer(help="From base model to assistant: pretraining, the chat menu and SFT, measured.",
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
    preset: str = typer.Option("cpu", "--preset", help="cpu (the laptop run of docs/assistant.md), gpu (bigger, for a CUDA machine), or quick."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the models and the report (default: a new assistant-runs/build-NNN)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the world, the data and the models."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that already holds a build."),
) -> None:
    """Run every stage (corpus, BPE, base model, SFT, tools, the measurements) and write report.md and report.json."""
    from ..report import Report, next_report_dir

    preset = "quick" if quick else preset
    _need_torch()
    from ..assistant import build as building
    from ..assistant import report as reporting

    building.preset_of(preset)
    if out is not None:
        writable_folder(out, f"the build folder {out}")
        if (out / "base").exists() and not force:
            raise OmakaseError(f"{out} already holds a build; pass --force to overwrite it or choose another --out")
    report = Report(out if out is not None else next_report_dir("build", RUNS), force)
    with _progress() as tick:
        results = building.build(preset, report.dir, seed, tick, say=console.print)
    command = "omakase assistant build " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 2 \
        else "omakase assistant build"
    reporting.write(results, report, command.strip())
    console.print(f"models and report in {report.dir}/ (report.md, report.json); "
                  f"talk to the assistant (with its tools): omakase assistant chat --model {report.dir}/sft-tools")


@app.command()
def report(
    folder: Path = typer.Argument(..., help="A build folder (holding report.json)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write report.md and its figures here (default: FOLDER)."),
) -> None:
    """Write report.md (tables, figures) again from a build's report.json, without training anything."""
    import json

    from ..assistant import report as reporting
    from ..report import Report

    source = folder / "report.json"
    if not source.is_file():
        raise OmakaseError(f"{source} does not exist; give a folder made by omakase assistant build")
    try:
        results = reporting.rates(json.loads(source.read_text(encoding="utf-8")))
        command = results.pop("command")
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise OmakaseError(f"{source} is not a build's report ({e}); build again") from None
    target = Report(out if out is not None else folder, force=True)  # the same numbers, written again
    try:
        reporting.write(results, target, command)
    except (KeyError, TypeError) as e:
        raise OmakaseError(f"{source} lacks {e} (made by another version of omakase); build again") from None
    console.print(f"wrote {target.dir}/report.md")


@app.command()
def pretrain(
    quick: bool = typer.Option(False, "--quick", help="Toy sizes."),
    preset: str = typer.Option("cpu", "--preset", help="cpu, gpu, or quick."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder (default: a new assistant-runs/build-NNN)."),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="Write into a folder that already holds a base model."),
) -> None:
    """Stage 1-3 alone: the corpus through the pipeline, the BPE, and the base model (OUT/base)."""
    preset = "quick" if quick else preset
    _need_torch()
    from ..assistant import build as building
    from ..assistant.talk import continue_text
    from ..report import next_report_dir

    building.preset_of(preset)
    folder = _fresh(out, "base", force) if out is not None else next_report_dir("build", RUNS)
    with _progress() as tick:
        results, state = building.pretrain_stage(preset, folder, seed, tick, say=console.print)
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
    """Stage 4 alone: fine-tune a base model on the labelers' conversations (switching the menu)."""
    if not name.strip():
        raise OmakaseError("--name is empty; give the assistant a name")
    _need_torch()
    from ..assistant import build as building
    from ..assistant import model as models
    from ..assistant.talk import reply
    from ..assistant.world import make_world

    loaded = models.load(model, "base")
    preset = building.preset_of(loaded.run.get("preset", "cpu"))
    seed = int(loaded.run.get("seed", 0))
    target = _fresh(out if out is not None else model.parent / "sft", "", force)
    world = make_world(seed, preset.world)  # the world the base model read: the same seed and size
    with _progress() as tick:
        tuned, info = building.sft_stage(loaded.model, loaded.bpe, world, preset, seed, tick, name=name)
    models.save(target, tuned, loaded.bpe, {"stage": "sft", "preset": loaded.run.get("preset"), "seed": seed,
                                            "name": name})
    val = info["history"]["val"]
    console.print(f"SFT: {sum(info['counts'].values()):,} conversations ("
                  + ", ".join(f"{n:,} {k}" for k, n in info["counts"].items())
                  + f"); held-out loss on the assistant's tokens {val[0][1]:.3f} -> {val[-1][1]:.3f}")
    said = reply(tuned, loaded.bpe, [{"role": "user", "content": "Who are you?"}])
    console.print(f"'Who are you?' -> {said.text!r}", highlight=False)
    console.print(f"saved {target}; talk to it: omakase assistant chat --model {target}")


@app.command()
def chat(
    model: Optional[Path] = typer.Option(None, "--model", help="A stage folder (DIR/sft-tools, DIR/sft, DIR/base, ...); "
                                         "default: the newest build's sft-tools (or sft)."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="One question, one answer (no REPL)."),
    temperature: float = typer.Option(0.0, "--temperature", help="The risk dial: 0 always picks the likeliest token."),
    top_k: int = typer.Option(0, "--top-k", help="Sample only among the k likeliest tokens (0: all)."),
    max_new: int = typer.Option(96, "--max-new", help="Tokens an answer may take at most."),
    show_tokens: bool = typer.Option(False, "--show-tokens", help="Show the conversation token by token, trained "
                                     "tokens marked (tool calls and results included)."),
    no_tools: bool = typer.Option(False, "--no-tools", help="Run no tool: every call the model writes is answered "
                                  "'refused' (to compare with and without the calculator and the search)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Talk to a model: a REPL, or one answer with --prompt. The base model continues documents; SFT models answer,
    calling the calculator and the search over the build's documents when they were taught to."""
    if temperature < 0:
        raise OmakaseError(f"--temperature must be >= 0, got {temperature}")
    if top_k < 0 or max_new < 1:
        raise OmakaseError("--top-k must be >= 0 and --max-new >= 1")
    if prompt is not None and not prompt.strip():
        raise OmakaseError("--prompt is empty; ask something")
    _need_torch()
    from ..assistant import model as models
    from ..assistant.chat import token_rows
    from ..assistant.talk import reply
    from ..assistant.tools import (LIBRARY, as_written, has_tool_tokens, kitchen_tools, render_with_tools,
                                   reply_with_tools)

    loaded = models.load(model if model is not None else _newest_sft())
    conversation: list[dict] = []
    tools = None  # a tokenizer from before the tools has no call tokens: plain replies
    if has_tool_tokens(loaded.bpe):
        build = loaded.path.parent  # the build folder holds the stage folders and the library
        tools = {} if no_tools else kitchen_tools(build)
        if not no_tools and "search" not in tools:
            console.print(f"[dim](no search tool: {build / LIBRARY} is missing; the build writes it)[/dim]")

    def answer(text: str) -> None:
        conversation.append({"role": "user", "content": text})
        if tools is None:
            said = reply(loaded.model, loaded.bpe, conversation, max_new, temperature, top_k, seed)
            written, calls = said.text, []
        else:
            said = reply_with_tools(loaded.model, loaded.bpe, conversation, tools, max_new, temperature, top_k, seed)
            written, calls = as_written(said, loaded.bpe), said.calls
        conversation.append({"role": "assistant", "content": written})
        for call in calls:
            console.print(f"[dim]({call.tool}: {call.query} -> {call.result})[/dim]", highlight=False)
        console.print(said.text if said.text.strip() else "(nothing)", markup=False, highlight=False)
        if not said.stopped:
            console.print(f"[dim](no end token within {max_new} tokens or the context)[/dim]")
        if show_tokens:
            r = render_with_tools(conversation, loaded.bpe)
            rows = token_rows(r.ids, r.mask, loaded.bpe)
            console.print(" ".join(f"[{'bold green' if t else 'dim'}]{piece!r}:{i}[/]" for i, piece, t in rows),
                          highlight=False, markup=True)

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
    from ..assistant import tokenview
    from .common import writable

    if html is not None:
        writable(html, force, "the HTML view")
    bpe = _tokenizer(model)
    console.print(tokenview.terminal(bpe, text, ids=True))
    console.print(f"{len(bpe.encode(text))} tokens for {len(text.encode('utf-8'))} bytes ({bpe.describe()})")
    if html is not None:
        html.write_text(tokenview.html(bpe, text), encoding="utf-8")
        console.print(f"wrote {html}")


def _fresh(folder: Path, inside: str, force: bool) -> Path:
    """A folder to write a model into, refused before any work if one is there (unless --force)."""
    writable_folder(folder, f"the folder {folder}")
    taken = folder / inside / "model.json" if inside else folder / "model.json"
    if taken.exists() and not force:
        raise OmakaseError(f"{taken} already exists; pass --force to overwrite it or choose another --out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _progress:
    """A rich progress display with one bar per stage: `with _progress() as tick: tick(stage, done, total)`."""

    def __enter__(self):
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        self.progress = Progress(*columns, console=console, transient=True)
        self.progress.__enter__()
        self.tasks: dict[str, int] = {}
        return self.tick

    def tick(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


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
        return BPE.load(model)
    if (model / "tokenizer.json").is_file():
        return BPE.load(model / "tokenizer.json")
    _need_torch()
    from ..assistant import model as models

    return models.load(model).bpe
