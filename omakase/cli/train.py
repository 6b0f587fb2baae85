"""`omakase train`: Ming studies the records, dish after dish, while you watch."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .. import checkpoint as ckpt_io
from .. import data as data_io
from .. import distributed, inference
from .. import train as training
from ..config import MODEL_DIALS, PRESETS, GPTConfig, check_memory, count_params, settings_for
from ..errors import OmakaseError
from ..files import release
from ..plan import SCHEDULES
from ..sample import cook, write
from ..tokenizer import Tokenizer
from .common import (choice, console, dry_run_option, engine_option, next_run_path, next_to, not_blank,
                     number, plural, reserved, seed_option, temperature_option, writable)

INTERRUPTED = 130  # the shell's exit code for a program stopped by Ctrl-C
# The largest values the count and size options take (the help says each); the memory and parameter
# check (config.check_memory) refuses the combinations that fit each bound but not together.
STEPS_MAX = 10_000_000
LAYERS_MAX, WIDTH_MAX, HEADS_MAX, BLOCK_MAX = 96, 12_288, 128, 65_536  # GPT-3's depth, width and heads
BATCH_MAX = 65_536
SAMPLES_MAX = 10_000
DTYPES, DEVICES = ("float64", "float32", "bfloat16"), ("auto", "cpu", "cuda", "mps")


def count(low: int, high: int, what: str):
    """A count option's bounds, checked where it is defined (the help shows them as [low<=x<=high])."""
    return dict(min=low, max=high, help=f"{what}.")


@dataclass
class TrainSettings:
    """What `omakase train` was asked, every option already checked at its definition: what _train runs."""

    data: str | None
    layout: str | None
    engine: str | None  # None on --resume: the checkpoint's own
    engine_options: dict  # the torch engine's: dtype, device, micro_batch, compile
    chosen: dict  # the preset's dials and plan with the options given (empty on --resume)
    notes: list[str]
    seed: int
    out: Path | None
    force: bool
    resume: Path | None
    pause_at: int | None
    log: Path | None
    eval_every: int | None
    val_docs: int
    keep: set[int]
    samples: int
    temperature: float
    dry_run: bool


def train(
    data: Optional[str] = typer.Option(None, "--data", callback=not_blank, help="Text file, one document per line, or a known data set "
                                       f"({', '.join(data_io.KNOWN)}); default: the preset's, else names."),
    layout: Optional[str] = typer.Option(None, callback=choice(("lines", "stream")),
                                         help="lines (one document per line) or stream (one continuous text cut "
                                              "into blocks); default: the data set's own, lines for a file."),
    engine: Optional[str] = engine_option(None, "How to compute the same model: scalar (pure Python), numpy (the "
                                                "default) or torch; on --resume, the checkpoint's."),
    preset: Optional[str] = typer.Option(None, callback=choice(PRESETS),
                                         help=f"Starting dials and plan: {', '.join(PRESETS)} (default reference)."),
    seed: Optional[int] = seed_option(None, "Random seed: shuffle, initial dials, cooking (default 42)"),
    steps: Optional[int] = typer.Option(None, **count(1, STEPS_MAX, "Planned training steps (the learning rate "
                                                                    "decays over them)")),
    n_layer: Optional[int] = typer.Option(None, **count(1, LAYERS_MAX, "Transformer layers")),
    n_embd: Optional[int] = typer.Option(None, **count(1, WIDTH_MAX, "Embedding width (numbers per flavor card)")),
    n_head: Optional[int] = typer.Option(None, **count(1, HEADS_MAX, "Attention heads (sous chefs); must divide "
                                                                     "n-embd")),
    block_size: Optional[int] = typer.Option(None, **count(1, BLOCK_MAX, "Longest context, in tokens")),
    lr: Optional[float] = typer.Option(None, callback=number(0, 10, above=True), help="Peak learning rate (> 0, at most 10)."),
    batch_size: Optional[int] = typer.Option(None, **count(1, BATCH_MAX, "Documents per step")),
    warmup: Optional[int] = typer.Option(None, **count(0, STEPS_MAX - 1, "Steps of linear learning-rate warmup; "
                                                                         "fewer than --steps")),
    schedule: Optional[str] = typer.Option(None, callback=choice(SCHEDULES),
                                           help="Decay after warmup: linear (the reference's) or cosine."),
    min_lr: Optional[float] = typer.Option(None, callback=number(0, 10),
                                           help="Learning rate at the end of the decay (0 to --lr)."),
    beta1: Optional[float] = typer.Option(None, callback=number(0, 1, below=True),
                                          help="Adam's memory of the gradient, in [0, 1) (the reference's 0.85)."),
    beta2: Optional[float] = typer.Option(None, callback=number(0, 1, below=True),
                                          help="Adam's memory of the squared gradient, in [0, 1) (0.99)."),
    weight_decay: Optional[float] = typer.Option(None, callback=number(0, 1),
                                                 help="AdamW's decoupled weight decay, in [0, 1] (0 = none)."),
    clip: Optional[float] = typer.Option(None, callback=number(0),
                                         help="Clip the gradients' global norm to this (0 = never)."),
    dropout: Optional[float] = typer.Option(None, callback=number(0, 1, below=True),
                                            help="torch engine: dropout while training, in [0, 1) (0 = none)."),
    init_std: Optional[float] = typer.Option(None, callback=number(0, 1),
                                             help="Standard deviation of the initial dials, in [0, 1] (the "
                                                  "reference's 0.08)."),
    out: Optional[Path] = typer.Option(None, help="Checkpoint to write (default: runs/ming-NNN.json; on --resume, "
                                                  "the next free name beside the checkpoint resumed)."),
    force: bool = typer.Option(False, help="Overwrite an existing --out, --log or --keep-at file."),
    resume: Optional[Path] = typer.Option(None, help="Continue a paused run from its checkpoint, on its engine "
                                                     "(the checkpoint itself is kept as it is)."),
    pause_at: Optional[int] = typer.Option(None, **count(1, STEPS_MAX, "Stop after this step and write a "
                                                                       "checkpoint")),
    log: Optional[Path] = typer.Option(None, "--log", "--log-file",
                                       help="Write one JSON line per step: step, loss, lr (under torchrun: "
                                            "--log-file); a resumed run appends to it."),
    eval_every: Optional[int] = typer.Option(None, **count(0, STEPS_MAX, "Measure the held-out loss every N steps "
                                                                         "(default: steps/4; 0 = only at the end)")),
    val_docs: int = typer.Option(training.VAL_DOCS, **count(0, STEPS_MAX, "Held-out documents measured during "
                                                                          "training (0 = all)")),
    keep_at: str = typer.Option("", help="Also keep checkpoints at these steps, e.g. 1,100,500."),
    samples: int = typer.Option(20, **count(0, SAMPLES_MAX, "Names to cook after training (0 for none); a stream "
                                                            "model writes 25 characters per sample")),
    temperature: float = temperature_option(0.5, "Risk dial for those names (0 = the same menu every time)"),
    dtype: Optional[str] = typer.Option(None, callback=choice(DTYPES),
                                        help="torch engine: float64 (exact, the default), float32 or bfloat16."),
    device: Optional[str] = typer.Option(None, callback=choice(DEVICES),
                                         help="torch engine: auto (CUDA when present, the default), cpu, cuda or mps."),
    micro_batch: Optional[int] = typer.Option(None, **count(1, BATCH_MAX, "torch engine: documents per forward "
                                                                          "pass, at most --batch-size; the gradients "
                                                                          "of a step's micro-batches add up")),
    compile: bool = typer.Option(False, "--compile", help="torch engine: compile the model with torch.compile "
                                 "(a slow first step, then faster ones; see benchmarks/compile.py)."),
    dry_run: bool = dry_run_option(),
) -> int:
    """Train Ming (a GPT) and cook names. With the defaults and --seed 42 this is Karpathy's microgpt, step for step."""
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
        if micro_batch is not None and micro_batch > chosen["batch_size"]:
            raise OmakaseError(f"--micro-batch ({micro_batch}) must be at most --batch-size ({chosen['batch_size']})")
    options = {k: v for k, v in (("dtype", dtype or chosen.get("dtype")), ("device", device),
                                 ("micro_batch", micro_batch), ("compile", compile or None)) if v is not None}
    if options and engine not in (None, "torch"):
        flags = " and ".join(f"--{k.replace('_', '-')}" for k in options)
        raise OmakaseError(f"{flags} {'is' if len(options) == 1 else 'are'} for the torch engine; add --engine torch")
    settings = TrainSettings(data or chosen.get("data"), layout, engine, options, chosen, notes,
                             42 if seed is None else seed, out, force, resume, pause_at, log, eval_every, val_docs,
                             keep, samples, temperature, dry_run)
    stoves = distributed.from_environment()
    if stoves.world > 1 and engine not in (None, "torch"):
        raise OmakaseError(f"several processes ({stoves.world}) train only with the torch engine; add --engine torch")
    if not stoves.is_main:
        console.quiet = True  # rank 0 alone prints, logs and writes checkpoints
    try:
        return _train(stoves, settings)
    finally:
        distributed.finish(stoves)


def _train(stoves, s: TrainSettings) -> int:
    main = stoves.is_main
    if s.resume is not None:
        ckpt, dataset, engine, options = _paused(s)
        out = s.out
        if out is not None and main:
            writable(out, s.force, "--out")  # the paused checkpoint too: it is overwritten only with --force
    else:
        ckpt, engine, options, out = None, s.engine, s.engine_options, s.out
        plan = training.plan_from(s.chosen, s.seed)
        if out is not None and main:
            writable(out, s.force, "--out")
        dataset = inference.load_dataset(s.data, s.layout)
        if s.dry_run:  # the dials checked as start() checks them, without drawing any
            vocab = Tokenizer.from_docs(dataset.docs).vocab_size
            check_memory(GPTConfig(vocab, *(s.chosen[k] for k in MODEL_DIALS)), plan.batch_size)
    if s.dry_run:
        _stop_at(s, *((ckpt.run.get("step", 0), training.plan_of(ckpt.run).steps) if ckpt else (0, plan.steps)))
        return _dry_run(s, ckpt, engine)
    if ckpt is not None:
        run = training.resume(ckpt, dataset.docs, dataset.info, engine, options)
    else:
        run = training.start(dataset.docs, dataset.info, plan, engine, *(s.chosen[k] for k in MODEL_DIALS),
                             engine_options=options)
        for note in s.notes:
            console.print(f"[yellow]note:[/] {note}")
    stop_at = _stop_at(s, run.step, run.plan.steps)
    log, kept = s.log, {}
    if not main:
        log, out = None, None
    else:
        if log is not None:
            writable(log, s.force or s.resume is not None, "--log")  # a resumed run appends to its log
        # names are reserved only once every check has passed, and exclusively: a second run given the
        # same --out is refused rather than both writing it
        if out is None:
            out = next_to(s.resume) if s.resume is not None else next_run_path()
        else:
            reserved(out, s.force, "--out")
    try:
        if main:
            for k in sorted(s.keep):
                kept[k] = reserved(writable(out.with_name(f"{out.stem}-step{k}{out.suffix}"), s.force,
                                            "--keep-at file"), s.force, "--keep-at file")
        return _run(stoves, s, run, stop_at, out, log, kept, options)
    finally:  # a run that stopped before writing leaves no placeholder behind
        for path in (out, *kept.values()):
            if path is not None:
                release(path)


def _run(stoves, s: TrainSettings, run, stop_at: int, out, log, kept, options) -> int:
    plan = run.plan
    every = plan.steps // 4 if s.eval_every is None else s.eval_every
    console.print(
        f"Ming: {count_params(run.config):,} parameters ({_dials(run.config)}), engine {run.engine.name}; "
        f"{plural(len(run.docs), 'record' if run.data_info.get('layout', 'lines') == 'lines' else 'block')}: "
        f"{run.n_train:,} to train on, {len(run.val_docs):,} held out; "
        f"steps {run.step + 1}..{stop_at} of {plan.steps}, batch {plan.batch_size}, lr {plan.lr}"
        + (f"; {stoves.world} processes share each batch" if stoves.world > 1 else ""), highlight=False)
    step_log = StepLog(log, append=s.resume is not None, force=s.force) if log is not None else None
    try:
        stopped = _train_loop(run, stop_at, every, s.val_docs or None, step_log, kept, options)
    except training.Diverged as e:
        _save(run, out, options)
        raise OmakaseError(f"{e}; checkpoint {out} holds step {run.step}") from None
    finally:
        if step_log is not None:
            step_log.close()
    if step_log is not None and step_log.failed is not None:
        _save(run, out, options)
        raise OmakaseError(step_log.rescue(run.step, f"omakase train --resume {out} --log {log}", out))
    _save(run, out, options)
    if run.step < plan.steps:
        how = "interrupted" if stopped else "paused"
        resume_cmd = f"omakase train --resume {out}"  # the checkpoint records its data and its engine
        console.print(f"[yellow]{how} after step {run.step}[/]; checkpoint {out}. Resume with:")
        console.print(resume_cmd, soft_wrap=True, highlight=False)  # a command to copy: never broken
        return INTERRUPTED if stopped else 0
    val = run.val[-1] if run.val else run.validate(s.val_docs or None)
    console.print(
        f"done: step {run.step} loss {run.losses[-1]:.4f} (that step alone) | running mean of the last "
        f"{min(len(run.losses), training.RUNNING_WINDOW)} steps {run.running_mean():.4f} | "
        + (f"held-out loss {val['loss']:.4f} on {plural(val['n_docs'], 'held-out document')}" if val
           else "no held-out documents (dataset < 10 docs)")
        + f" | {run.epochs:.2f} epochs" + (f" | clipped {run.clipped:,} of {run.step:,} steps" if run.plan.clip else ""),
        highlight=False)
    console.print(f"checkpoint: {out}")
    samples, temperature = s.samples, s.temperature
    if samples and run.data_info.get("layout", "lines") == "stream":
        console.print(f"--- {plural(samples * 25, 'character')} written at temperature {temperature} ---")
        console.print(write(run.engine, run.tokenizer, run.rng(), samples * 25, temperature), highlight=False,
                      markup=False)
    elif samples:
        console.print(f"--- {plural(samples, 'name')} cooked at temperature {temperature} ---")
        for i, name in enumerate(cook(run.engine, run.tokenizer, run.rng(), samples, temperature), 1):
            console.print(f"sample {i:2d}: {name or '(empty)'}", highlight=False)
    return 0


def _stop_at(s: TrainSettings, done: int, planned: int) -> int:
    """Where this run stops (--pause-at, else the plan's end), and every --keep-at step inside the run."""
    if done >= planned:
        raise OmakaseError(f"the run in {s.resume} is already complete ({done} of {planned} steps); "
                           f"cook with `omakase cook -c {s.resume}` or train a new one")
    stop_at = planned if s.pause_at is None else s.pause_at
    if not done < stop_at <= planned:
        raise OmakaseError(f"--pause-at must be after step {done} and at most {planned}, got {s.pause_at}")
    beyond = sorted(k for k in s.keep if not done < k <= planned)
    if beyond:
        raise OmakaseError(f"--keep-at steps must be after step {done} and at most {planned}, got {beyond[0]}")
    return stop_at


def _paused(s: TrainSettings):
    """The paused checkpoint, its data, and the engine it goes on with: the one it records (and the torch
    options it ran with) unless --engine names another."""
    ckpt = ckpt_io.load(s.resume)
    dataset = inference.dataset_of(ckpt, s.data)
    if dataset is None:
        name = (ckpt.run.get("data") or {}).get("name", "a dataset")
        raise OmakaseError(f"the checkpoint was trained on {name}, which is not on this machine unchanged; "
                           f"pass --data with that file")
    recorded = ckpt.run.get("engine") or "numpy"
    engine = s.engine or recorded
    options = dict(s.engine_options)
    if engine == recorded:
        options = {**(ckpt.run.get("engine_options") or {}), **options}
    if options and engine != "torch":
        flags = " and ".join(f"--{k.replace('_', '-')}" for k in options)
        raise OmakaseError(f"{flags} {'is' if len(options) == 1 else 'are'} for the torch engine; this run is on "
                           f"the {engine} engine")
    if engine == "torch":
        options.setdefault("device", "auto")
    return ckpt, dataset, engine, options


def _dry_run(s: TrainSettings, ckpt, engine: str) -> int:
    from ..engines import engine_class

    engine_class(engine)  # an engine whose extra is missing is refused here too
    if s.log is not None:
        writable(s.log, s.force or s.resume is not None, "--log")
    what = f"resume {s.resume} (step {ckpt.run.get('step', 0)})" if ckpt is not None else "train"
    for note in s.notes if ckpt is None else ():  # what the plan would adapt, as a real run says it
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"dry run: every option checked; would {what} on the {engine} engine; nothing was trained or "
                  f"written", highlight=False)
    return 0


def _save(run, out: Optional[Path], options: dict) -> None:
    """Write the checkpoint; if that fails (a full disk), rescue it under the user cache and say where.
    (`out` is None on every process but rank 0: one writer.)"""
    if out is None:
        return
    ckpt = run.checkpoint()
    recorded = {k: v for k, v in options.items() if k in ("dtype", "micro_batch")}
    if recorded:  # what a resume runs with again (the device is the machine's, not the run's)
        ckpt.run["engine_options"] = recorded
    try:
        ckpt_io.save(ckpt, out)
    except OSError as e:
        rescue = _rescue_path(out)
        try:
            ckpt_io.save(ckpt, rescue)
        except OSError:
            raise OmakaseError(f"could not write the checkpoint to {out} ({e.strerror}) nor to {rescue}; "
                               f"free some disk space and train again") from None
        then = (f"resume with: omakase train --resume {rescue}" if run.step < run.plan.steps
                else f"the run is complete: move it where you want it, or cook with: omakase cook -c {rescue}")
        raise OmakaseError(f"could not write the checkpoint to {out} ({e.strerror}); the run (step {run.step}) "
                           f"was saved to {rescue} instead; {then}") from None


def _rescue_path(path: Path) -> Path:
    return data_io.cache_dir() / "rescue" / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"


class StepLog:
    """The --log file: one JSON line per step, each written whole.

    A write that fails (a full disk) leaves the file ending at its last whole line; that line and the
    ones after it are kept here, the run stops after the step, and rescue() writes them beside the
    rescued checkpoints so that nothing of the run is lost.
    """

    def __init__(self, path: Path, append: bool, force: bool):
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC if force else os.O_EXCL)
        try:
            self.fd = os.open(path, flags, 0o666)
        except FileExistsError:
            raise OmakaseError(f"--log {path} already exists; pass --force to overwrite it or choose another path") from None
        self.failed: OSError | None = None
        self.unwritten: list[str] = []
        self.written = 0

    def write(self, record: dict) -> None:
        line = json.dumps(record, allow_nan=False) + "\n"
        if self.failed is None:
            end = os.lseek(self.fd, 0, os.SEEK_END)
            try:
                blob = line.encode("utf-8")
                while blob:
                    blob = blob[os.write(self.fd, blob):]
                self.written += 1
                return
            except OSError as e:
                self.failed = e
                try:
                    os.ftruncate(self.fd, end)  # no half line at the end of the log
                except OSError:
                    pass
        self.unwritten.append(line)

    def rescue(self, step: int, resume_cmd: str, out: Path) -> str:
        """Write the lines the log could not take to the rescue folder; the one-line account of it all."""
        rescue = _rescue_path(self.path)
        try:
            rescue.parent.mkdir(parents=True, exist_ok=True)
            rescue.write_text("".join(self.unwritten), encoding="utf-8")
            kept = f"its last {plural(len(self.unwritten), 'line')} are in {rescue} (append them to the log)"
        except OSError:
            kept = f"its last {plural(len(self.unwritten), 'line')} are lost, but checkpoint {out} holds every step's loss"
        return (f"could not write the log {self.path} ({self.failed.strerror}), so training stopped after step "
                f"{step} with checkpoint {out}; {kept}; free some disk space, then: {resume_cmd}")

    def close(self) -> None:
        os.close(self.fd)


def _train_loop(run, stop_at: int, every: int, val_limit, log: StepLog | None, kept: dict[int, Path],
                options: dict) -> bool:
    """Train until stop_at; Ctrl-C (or a log that cannot be written) finishes the current step and stops.
    Returns True if interrupted."""
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    columns = [TextColumn("step"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeRemainingColumn()]
    started, first = time.perf_counter(), run.step
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("train", total=run.plan.steps, completed=run.step, info="")
            while run.step < stop_at and not interrupted:
                loss, lr = run.train_step()
                if log is not None:
                    log.write({"step": run.step, "loss": loss, "lr": lr})
                    if log.failed is not None:
                        break
                if run.step in kept:
                    _save(run, kept[run.step], options)
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
    return bool(interrupted)


def _parse_steps(text: str) -> set[int]:
    try:
        return {int(s) for s in text.split(",") if s.strip()}
    except ValueError:
        raise OmakaseError(f"--keep-at takes step numbers separated by commas, e.g. 1,100,500; got {text!r}") from None


def _dials(config) -> str:
    return (f"{plural(config.n_layer, 'layer')}, {config.n_embd} dims, {plural(config.n_head, 'head')}, "
            f"block {config.block_size}")
