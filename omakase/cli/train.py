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
from .. import data as data_io
from .. import distributed, service
from .. import train as training
from ..config import MODEL_DIALS, PRESETS, count_params, settings_for
from ..errors import OmakaseError
from ..sample import cook, write
from .common import console, finite, next_run_path, plural, writable

INTERRUPTED = 130  # the shell's exit code for a program stopped by Ctrl-C


def train(
    data: Optional[str] = typer.Option(None, "--data", help="Text file, one document per line, or a known data set "
                                       f"({', '.join(data_io.KNOWN)}); default: the preset's, else names."),
    layout: Optional[str] = typer.Option(None, help="lines (one document per line) or stream (one continuous text "
                                         "cut into blocks); default: the data set's own, lines for a file."),
    engine: Optional[str] = typer.Option(None, help="How to compute the same model: scalar (pure Python), numpy "
                                         "(the default) or torch."),
    preset: Optional[str] = typer.Option(None, help=f"Starting dials and plan: {', '.join(PRESETS)} (default reference)."),
    seed: Optional[int] = typer.Option(None, help="Random seed: shuffle, initial dials, cooking (default 42)."),
    steps: Optional[int] = typer.Option(None, help="Planned training steps (the learning rate decays over them)."),
    n_layer: Optional[int] = typer.Option(None, help="Transformer layers."),
    n_embd: Optional[int] = typer.Option(None, help="Embedding width (numbers per flavor card)."),
    n_head: Optional[int] = typer.Option(None, help="Attention heads (sous chefs); must divide n-embd."),
    block_size: Optional[int] = typer.Option(None, help="Longest context, in tokens."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate."),
    batch_size: Optional[int] = typer.Option(None, help="Documents per step."),
    warmup: Optional[int] = typer.Option(None, help="Steps of linear learning-rate warmup."),
    schedule: Optional[str] = typer.Option(None, help="Decay after warmup: linear (the reference's) or cosine."),
    min_lr: Optional[float] = typer.Option(None, help="Learning rate at the end of the decay."),
    beta1: Optional[float] = typer.Option(None, help="Adam's memory of the gradient (the reference's 0.85)."),
    beta2: Optional[float] = typer.Option(None, help="Adam's memory of the squared gradient (0.99)."),
    weight_decay: Optional[float] = typer.Option(None, help="AdamW's decoupled weight decay (0 = none)."),
    clip: Optional[float] = typer.Option(None, help="Clip the gradients' global norm to this (0 = never)."),
    dropout: Optional[float] = typer.Option(None, help="torch engine: dropout while training (0 = none)."),
    init_std: Optional[float] = typer.Option(None, help="Standard deviation of the initial dials (the reference's 0.08)."),
    out: Optional[Path] = typer.Option(None, help="Checkpoint to write (default: runs/ming-NNN.json)."),
    force: bool = typer.Option(False, help="Overwrite an existing --out, --log or --keep-at file."),
    resume: Optional[Path] = typer.Option(None, help="Continue a paused run from its checkpoint."),
    pause_at: Optional[int] = typer.Option(None, help="Stop after this step and write a checkpoint."),
    log: Optional[Path] = typer.Option(None, "--log", "--log-file",
                                       help="Write one JSON line per step: step, loss, lr (under torchrun: --log-file)."),
    eval_every: Optional[int] = typer.Option(None, help="Measure the held-out loss every N steps (default: steps/4; 0 = only at the end)."),
    val_docs: int = typer.Option(training.VAL_DOCS, help="Held-out documents measured during training (0 = all)."),
    keep_at: str = typer.Option("", help="Also keep checkpoints at these steps, e.g. 1,100,500."),
    samples: int = typer.Option(20, help="Names to cook after training (0 for none); a stream model writes 25 characters per sample."),
    temperature: float = typer.Option(0.5, help="Risk dial for those names (0 = the same menu every time)."),
    dtype: Optional[str] = typer.Option(None, help="torch engine: float64 (exact, the default), float32 or bfloat16."),
    device: Optional[str] = typer.Option(None, help="torch engine: auto (CUDA when present, the default), cpu, cuda or mps."),
    micro_batch: Optional[int] = typer.Option(None, help="torch engine: documents per forward pass; the gradients of a "
                                              "step's micro-batches add up (gradient accumulation)."),
    compile: bool = typer.Option(False, "--compile", help="torch engine: compile the model with torch.compile "
                                 "(a slow first step, then faster ones; see benchmarks/compile.py)."),
) -> int:
    """Train Ming (a GPT) and cook names. With the defaults and --seed 42 this is Karpathy's microgpt, step for step."""
    if finite(temperature, "--temperature") < 0:
        raise OmakaseError(f"--temperature must be >= 0, got {temperature}")
    for flag, value in (("--lr", lr), ("--min-lr", min_lr), ("--beta1", beta1), ("--beta2", beta2),
                        ("--weight-decay", weight_decay), ("--clip", clip), ("--dropout", dropout),
                        ("--init-std", init_std)):
        if value is not None:
            finite(value, flag)
    for flag, value in (("--samples", samples), ("--eval-every", eval_every), ("--val-docs", val_docs)):
        if value is not None and value < 0:
            raise OmakaseError(f"{flag} must be >= 0, got {value}")
    keep = _parse_steps(keep_at)
    given = dict(steps=steps, lr=lr, batch_size=batch_size, warmup=warmup, schedule=schedule, min_lr=min_lr,
                 beta1=beta1, beta2=beta2, weight_decay=weight_decay, clip=clip, dropout=dropout, init_std=init_std,
                 n_layer=n_layer, n_embd=n_embd, n_head=n_head, block_size=block_size)
    if resume is not None:
        fixed = [f"--{k.replace('_', '-')}" for k, v in {**given, "seed": seed, "preset": preset, "layout": layout}.items()
                 if v is not None]
        if fixed:
            raise OmakaseError(f"{', '.join(fixed)} cannot change on --resume: the plan and the model are the "
                               f"checkpoint's; drop {'it' if len(fixed) == 1 else 'them'} or start a new run")
        chosen, notes = {}, []
    else:
        chosen, notes = settings_for(preset or "reference", **given)
    engine = engine or chosen.get("engine", "numpy")
    options = {k: v for k, v in (("dtype", dtype or chosen.get("dtype")), ("device", device),
                                 ("micro_batch", micro_batch), ("compile", compile or None)) if v is not None}
    if options and engine != "torch":
        flags = " and ".join(f"--{k.replace('_', '-')}" for k in options)
        raise OmakaseError(f"{flags} {'is' if len(options) == 1 else 'are'} for the torch engine; add --engine torch")
    if engine == "torch":
        options.setdefault("device", "auto")
    stoves = distributed.from_environment()
    if stoves.world > 1 and engine != "torch":
        raise OmakaseError(f"several processes ({stoves.world}) train only with the torch engine; add --engine torch")
    if not stoves.is_main:
        console.quiet = True  # rank 0 alone prints, logs and writes checkpoints
    try:
        return _train(stoves, data or chosen.get("data"), layout, engine, options, chosen, notes,
                      42 if seed is None else seed, out, force, resume, pause_at, log, eval_every, val_docs, keep,
                      samples, temperature)
    finally:
        distributed.finish(stoves)


def _train(stoves, data, layout, engine, options, chosen, notes, seed, out, force, resume, pause_at, log, eval_every, val_docs,
           keep, samples, temperature) -> int:
    main = stoves.is_main
    if resume is not None:
        run, out = _resumed(resume, data, engine, options, out, force)
    else:
        plan = training.plan_from(chosen, seed)
        if out is not None and main:
            writable(out, force)
        dataset = service.load_dataset(data, layout)
        run = training.start(dataset.docs, dataset.info, plan, engine, *(chosen[k] for k in MODEL_DIALS),
                             engine_options=options)
        for note in notes:
            console.print(f"[yellow]note:[/] {note}")
    plan = run.plan
    if run.step >= plan.steps:
        raise OmakaseError(f"the run in {resume} is already complete ({run.step} of {plan.steps} steps); "
                           f"cook with `omakase cook -c {resume}` or train a new one")
    stop_at = plan.steps if pause_at is None else pause_at
    if not run.step < stop_at <= plan.steps:
        raise OmakaseError(f"--pause-at must be after step {run.step} and at most {plan.steps}, got {pause_at}")
    beyond = sorted(s for s in keep if not run.step < s <= plan.steps)
    if beyond:
        raise OmakaseError(f"--keep-at steps must be after step {run.step} and at most {plan.steps}, got {beyond[0]}")
    if not main:
        log, out, kept = None, None, {}
    else:
        if log is not None:
            writable(log, force or resume is not None, "log")  # a resumed run appends to its log
        out = out or next_run_path()  # the run's number is reserved only once every check has passed
        kept = {s: writable(out.with_name(f"{out.stem}-step{s}{out.suffix}"), force, "--keep-at file") for s in keep}
    every = plan.steps // 4 if eval_every is None else eval_every
    console.print(
        f"Ming: {count_params(run.config):,} parameters ({_dials(run.config)}), engine {run.engine.name}; "
        f"{plural(len(run.docs), 'record' if run.data_info.get('layout', 'lines') == 'lines' else 'block')}: "
        f"{run.n_train:,} to train on, {len(run.val_docs):,} held out; "
        f"steps {run.step + 1}..{stop_at} of {plan.steps}, batch {plan.batch_size}, lr {plan.lr}"
        + (f"; {stoves.world} processes share each batch" if stoves.world > 1 else ""), highlight=False)
    try:
        stopped = _train_loop(run, stop_at, every, val_docs or None, log, kept)
    except training.Diverged as e:
        _save(run, out)
        raise OmakaseError(f"{e}; checkpoint {out} holds step {run.step}") from None
    _save(run, out)
    if run.step < plan.steps:
        how = "interrupted" if stopped else "paused"
        resume_cmd = f"omakase train --resume {out}"  # the checkpoint records its data
        console.print(f"[yellow]{how} after step {run.step}[/]; checkpoint {out}. Resume with:")
        console.print(resume_cmd, soft_wrap=True, highlight=False)  # a command to copy: never broken
        return INTERRUPTED if stopped else 0
    val = run.val[-1] if run.val else run.validate(val_docs or None)
    console.print(
        f"done: step {run.step} loss {run.losses[-1]:.4f} (that step alone) | running mean of the last "
        f"{min(len(run.losses), training.RUNNING_WINDOW)} steps {run.running_mean():.4f} | "
        + (f"held-out loss {val['loss']:.4f} on {plural(val['n_docs'], 'held-out document')}" if val
           else "no held-out documents (dataset < 10 docs)")
        + f" | {run.epochs:.2f} epochs" + (f" | clipped {run.clipped:,} of {run.step:,} steps" if run.plan.clip else ""),
        highlight=False)
    console.print(f"checkpoint: {out}")
    if samples and run.data_info.get("layout", "lines") == "stream":
        console.print(f"--- {plural(samples * 25, 'character')} written at temperature {temperature} ---")
        console.print(write(run.engine, run.tokenizer, run.rng(), samples * 25, temperature), highlight=False,
                      markup=False)
    elif samples:
        console.print(f"--- {plural(samples, 'name')} cooked at temperature {temperature} ---")
        for i, name in enumerate(cook(run.engine, run.tokenizer, run.rng(), samples, temperature), 1):
            console.print(f"sample {i:2d}: {name or '(empty)'}", highlight=False)
    return 0


def _resumed(resume: Path, data: Optional[str], engine: str, options: dict, out: Optional[Path], force: bool):
    """The paused run and where it goes; the plan and the model are the checkpoint's."""
    ckpt = ckpt_io.load(resume)
    dataset = service.dataset_of(ckpt, data)
    if dataset is None:
        name = (ckpt.run.get("data") or {}).get("name", "a dataset")
        raise OmakaseError(f"the checkpoint was trained on {name}, which is not on this machine unchanged; "
                           f"pass --data with that file")
    run = training.resume(ckpt, dataset.docs, dataset.info, engine, options)
    if out is not None and out != resume:
        writable(out, force)
    return run, out or resume


def _save(run, out: Optional[Path]) -> None:
    """Write the checkpoint; if that fails (a full disk), rescue it under the user cache and say where.
    (`out` is None on every process but rank 0: one writer.)"""
    if out is None:
        return
    try:
        ckpt_io.save(run.checkpoint(), out)
    except OSError as e:
        rescue = data_io.cache_dir() / "rescue" / f"{out.stem}-{time.strftime('%Y%m%d-%H%M%S')}{out.suffix}"
        try:
            ckpt_io.save(run.checkpoint(), rescue)
        except OSError:
            raise OmakaseError(f"could not write the checkpoint to {out} ({e.strerror}) nor to {rescue}; "
                               f"free some disk space and train again") from None
        raise OmakaseError(f"could not write the checkpoint to {out} ({e.strerror}); the run (step {run.step}) "
                           f"was saved to {rescue} instead; resume with: omakase train --resume {rescue}") from None


def _train_loop(run, stop_at: int, every: int, val_limit, log: Optional[Path], kept: dict[int, Path]) -> bool:
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
                    log_file.write(json.dumps({"step": run.step, "loss": loss, "lr": lr}, allow_nan=False) + "\n")
                if run.step in kept:
                    _save(run, kept[run.step])
                if (every and run.step % every == 0) or run.step == run.plan.steps:
                    v = run.validate(val_limit)
                    if v:
                        progress.console.print(
                            f"step {run.step}: running mean {run.running_mean():.4f} | held-out {v['loss']:.4f} "
                            f"({plural(v['n_docs'], 'document')})", highlight=False)
                rate = (run.step - first) / (time.perf_counter() - started)
                progress.update(task, completed=run.step,
                                info=f"loss {loss:.4f} | mean {run.running_mean():.4f} | epoch {run.epochs:.2f} | "
                                     f"{rate:.1f} steps/s")
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
    return (f"{plural(config.n_layer, 'layer')}, {config.n_embd} dims, {plural(config.n_head, 'head')}, "
            f"block {config.block_size}")
