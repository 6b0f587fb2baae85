"""`omakase train`: Ming studies the records, dish after dish, while you watch."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .. import checkpoint as ckpt_io
from .. import train as training
from ..config import count_params
from ..errors import OmakaseError
from ..sample import cook
from .common import console, next_run_path, writable

# Named sets of dials. "reference" is Karpathy's microgpt; "bigger" is a makemore-sized
# transformer (4 layers, 64 dims, ~200K parameters) trained with mini-batches.
PRESETS = {
    "reference": dict(n_layer=1, n_embd=16, n_head=4, block_size=16, steps=1000, lr=0.01, batch_size=1, warmup=0),
    "bigger": dict(n_layer=4, n_embd=64, n_head=4, block_size=16, steps=3000, lr=0.003, batch_size=32, warmup=100),
}


def train(
    data: Optional[str] = typer.Option(None, "--data", help="Text file, one document per line (default: names.txt)."),
    engine: str = typer.Option("numpy", help="How to compute the same model: scalar (pure Python) or numpy."),
    preset: str = typer.Option("reference", help="Starting dials: reference (4,192 params) or bigger (~200K)."),
    seed: int = typer.Option(42, help="Random seed (shuffle, initial dials, cooking)."),
    steps: Optional[int] = typer.Option(None, help="Planned training steps (the learning rate decays over them)."),
    n_layer: Optional[int] = typer.Option(None, help="Transformer layers."),
    n_embd: Optional[int] = typer.Option(None, help="Embedding width (numbers per flavor card)."),
    n_head: Optional[int] = typer.Option(None, help="Attention heads (sous chefs); must divide n-embd."),
    block_size: Optional[int] = typer.Option(None, help="Longest context, in tokens."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate."),
    batch_size: Optional[int] = typer.Option(None, help="Documents per step."),
    warmup: Optional[int] = typer.Option(None, help="Steps of linear learning-rate warmup."),
    out: Optional[Path] = typer.Option(None, help="Checkpoint to write (default: runs/ming-NNN.json)."),
    force: bool = typer.Option(False, help="Overwrite an existing --out or --log."),
    resume: Optional[Path] = typer.Option(None, help="Continue a paused run from its checkpoint."),
    pause_at: Optional[int] = typer.Option(None, help="Stop after this step and write a checkpoint."),
    log: Optional[Path] = typer.Option(None, help="Write one JSON line per step: step, loss, lr."),
    eval_every: Optional[int] = typer.Option(None, help="Measure the held-out loss every N steps (default: steps/4; 0 = only at the end)."),
    keep_at: str = typer.Option("", help="Also keep checkpoints at these steps, e.g. 1,100,500."),
    samples: int = typer.Option(20, help="Names to cook after training (0 for none)."),
    temperature: float = typer.Option(0.5, help="Risk dial for those names (0 = the same menu every time)."),
) -> None:
    """Train Ming (a GPT) and cook names. With the defaults and --seed 42 this is Karpathy's microgpt, step for step."""
    if temperature < 0:
        raise OmakaseError(f"temperature must be >= 0, got {temperature}")
    if samples < 0:
        raise OmakaseError(f"--samples must be >= 0, got {samples}")
    if preset not in PRESETS:
        raise OmakaseError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    keep = _parse_steps(keep_at)
    docs, data_info = training.load_dataset(data)
    if resume is not None:
        run = training.resume(ckpt_io.load(resume), docs, data_info, engine)
        out = out or resume
        if out != resume:
            writable(out, force)
    else:
        given = dict(steps=steps, n_layer=n_layer, n_embd=n_embd, n_head=n_head, block_size=block_size, lr=lr,
                     batch_size=batch_size, warmup=warmup)
        chosen = {**PRESETS[preset], **{k: v for k, v in given.items() if v is not None}}
        plan = training.Plan(chosen["steps"], chosen["lr"], chosen["batch_size"], chosen["warmup"], seed)
        run = training.start(docs, data_info, plan, engine, chosen["n_layer"], chosen["n_embd"],
                             chosen["n_head"], chosen["block_size"])
        out = writable(out, force) if out else next_run_path()
    if log is not None and resume is None:
        writable(log, force, "log")
    plan = run.plan
    if run.step >= plan.steps:
        raise OmakaseError(f"the run in {resume} is already complete ({run.step} of {plan.steps} steps); "
                           f"cook with `omakase cook -c {resume}` or train a new one")
    stop_at = plan.steps if pause_at is None else pause_at
    if not run.step < stop_at <= plan.steps:
        raise OmakaseError(f"--pause-at must be after step {run.step} and at most {plan.steps}, got {pause_at}")
    every = plan.steps // 4 if eval_every is None else eval_every
    val_limit = run.engine.val_sample
    console.print(
        f"Ming: {count_params(run.config):,} parameters ({_dials(run.config)}), engine {run.engine.name}; "
        f"{len(run.docs):,} records: {run.n_train:,} to train on, {len(run.val_docs):,} held out; "
        f"steps {run.step + 1}..{stop_at} of {plan.steps}, batch {plan.batch_size}, lr {plan.lr}"
    )
    stopped = _train_loop(run, stop_at, every, val_limit, log, out, keep)
    ckpt_io.save(run.checkpoint(), out)
    if run.step < plan.steps:
        how = "interrupted" if stopped else "paused"
        resume_cmd = f"omakase train --resume {out}" + (f" --data {data}" if data else "")
        console.print(f"[yellow]{how} after step {run.step}[/]; checkpoint {out}. Resume with: {resume_cmd}")
        return
    val = run.val[-1] if run.val else run.validate(val_limit)
    console.print(
        f"done: step {run.step} loss {run.losses[-1]:.4f} (that step alone) | running mean of the last "
        f"{min(len(run.losses), training.RUNNING_WINDOW)} steps {run.running_mean():.4f} | "
        + (f"held-out loss {val['loss']:.4f} on {val['n_docs']:,} names" if val else "no held-out names (dataset < 10 docs)")
    )
    console.print(f"checkpoint: {out}")
    if samples:
        console.print(f"--- {samples} names cooked at temperature {temperature} ---")
        for i, name in enumerate(cook(run.engine, run.tokenizer, run.rng(), samples, temperature), 1):
            console.print(f"sample {i:2d}: {name}", highlight=False)


def _train_loop(run, stop_at: int, every: int, val_limit, log: Optional[Path], out: Path, keep: set[int]) -> bool:
    """Train until stop_at; Ctrl-C finishes the current step and stops. Returns True if interrupted."""
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    log_file = open(log, "a" if run.step else "w", encoding="utf-8") if log else None
    columns = [TextColumn("step"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeRemainingColumn()]
    started, first = time.perf_counter(), run.step
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("train", total=run.plan.steps, completed=run.step, info="")
            while run.step < stop_at and not interrupted:
                loss, lr = run.train_step()
                if log_file:
                    log_file.write(json.dumps({"step": run.step, "loss": loss, "lr": lr}) + "\n")
                if run.step in keep:
                    ckpt_io.save(run.checkpoint(), out.with_name(f"{out.stem}-step{run.step}{out.suffix}"))
                if (every and run.step % every == 0) or run.step == run.plan.steps:
                    v = run.validate(val_limit)
                    if v:
                        progress.console.print(
                            f"step {run.step}: running mean {run.running_mean():.4f} | held-out {v['loss']:.4f} "
                            f"({v['n_docs']:,} names)")
                rate = (run.step - first) / (time.perf_counter() - started)
                progress.update(task, completed=run.step,
                                info=f"loss {loss:.4f} | mean {run.running_mean():.4f} | {rate:.1f} steps/s")
    finally:
        signal.signal(signal.SIGINT, previous)
        if log_file:
            log_file.close()
    return bool(interrupted)


def _parse_steps(text: str) -> set[int]:
    try:
        return {int(s) for s in text.split(",") if s.strip()}
    except ValueError:
        raise OmakaseError(f"--keep-at takes step numbers separated by commas, e.g. 1,100,500; got {text!r}") from None


def _dials(config) -> str:
    return f"{config.n_layer} layer, {config.n_embd} dims, {config.n_head} heads, block {config.block_size}"
