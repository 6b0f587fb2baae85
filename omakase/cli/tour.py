"""`omakase tour`: the kitchen story told by the live model, chapter by chapter.

Ming is trained with the reference settings (or reused from the tour's cache),
then every chapter is measured on him, told in the chosen language, and drawn.

Files: figures go to --out (default tour-out/), into a folder per language they
are labelled in (tour-out/en/, tour-out/zh/), as ch<N>-<figure>.png/.svg/.csv.
The tour rewrites only those names, so a second tour into the same folder
refreshes its own figures and never touches anything else there, and a tour in
another language never overwrites this one's. --html refuses to overwrite an
existing file unless --force is given.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ..files import atomic_write_text
from ..config import count_params
from ..engines import engine_class
from ..errors import OmakaseError
from ..tour import drawing, html_page, story, telling
from ..tour.chapters import CHAPTERS, PARTS, measure_one, tell
from ..tour.gallery import Gallery
from ..tour.live_model import open_kitchen
from ..tour.ming import prepare
from ..tour.second_half import DEFAULT_TEXT, build_run, shipped_run
from .common import console, dry_run_option, engine_option, not_blank, writable, writable_folder


def default_engine() -> str:
    """The fast kitchen when it is installed, else the scalar one: the numbers are the same."""
    try:
        import omakase.engines.numpy  # noqa: F401
    except ImportError:
        return "scalar"
    return "numpy"


def tour(
    lang: str = typer.Option("en", "--lang", help="Language of the story: en or zh."),
    chapter: Optional[int] = typer.Option(None, "--chapter", help=f"Tell only this chapter (1-{len(CHAPTERS)})."),
    part: Optional[int] = typer.Option(None, "--part", help="Tell one half: 1 (Ming's kitchen, chapters 1-8) or 2 "
                                                            "(from Ming to ChatGPT, chapters 9-15)."),
    assistant: Optional[Path] = typer.Option(None, "--assistant",
                                             help="Tell the second half from your own `omakase assistant build` "
                                                  "folder instead of the run shipped with omakase."),
    text: Optional[str] = typer.Option(None, "--text", help="Your own sentence, cut into word-pieces in chapter 9."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", "-c",
                                              help="Tour another trained Ming instead of training one."),
    data: Optional[str] = typer.Option(None, "--data", callback=not_blank, help="Records, one per line (default: names.txt)."),
    out: Path = typer.Option(Path("tour-out"), "--out",
                             help="Folder for the figures (PNG, SVG and CSV), one subfolder per language."),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write the whole tour as one HTML page."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --html file."),
    retrain: bool = typer.Option(False, "--retrain", help="Train Ming again instead of reusing the cache."),
    engine: Optional[str] = engine_option(None, "scalar, numpy or torch: the same Ming (default: numpy if "
                                                "installed)."),
    no_questions: bool = typer.Option(False, "--no-questions",
                                      help="Do not wait for a guess at each chapter's question (the answer is "
                                           "printed right after it, as when the output is not a terminal)."),
    dry_run: bool = dry_run_option(),
) -> None:
    """The kitchen tour: how ChatGPT works, shown with a tiny GPT trained on this machine a moment ago."""
    if lang not in story.LANGUAGES:
        raise OmakaseError(f"--lang must be one of {', '.join(story.LANGUAGES)}, got {lang!r}")
    if chapter is not None and not 1 <= chapter <= len(CHAPTERS):
        raise OmakaseError(f"--chapter must be a number from 1 to {len(CHAPTERS)}, got {chapter}")
    if part is not None and part not in PARTS:
        raise OmakaseError(f"--part must be 1 or 2, got {part}")
    if part is not None and chapter is not None and chapter not in PARTS[part]:
        raise OmakaseError(f"--chapter {chapter} is not in part {part} (chapters {PARTS[part][0]}-{PARTS[part][-1]}); "
                           f"give --chapter or --part")
    if text is not None and not text.strip():
        raise OmakaseError("--text is empty; give a sentence to cut into word-pieces, e.g. --text \"Who are you?\"")
    if out.exists() and not out.is_dir():
        raise OmakaseError(f"--out {out} is a file; give a folder for the figures")
    writable_folder(out, f"--out {out}")
    if html is not None:
        writable(html, force, "--html file")

    engine = engine or default_engine()
    engine_class(engine)  # an unknown engine fails here, before any training
    t = story.Catalogue(lang)
    numbers = [chapter] if chapter else PARTS[part] if part else range(1, len(CHAPTERS) + 1)
    if assistant is not None and not any(n in PARTS[2] for n in numbers):
        raise OmakaseError("--assistant tells the second half (chapters 9-15); add --part 2 or leave --assistant out")
    if text is not None and PARTS[2][0] not in numbers:
        raise OmakaseError(f"--text is cut into word-pieces in chapter {PARTS[2][0]}, which this tour does not "
                           f"tell; add --part 2 (or --chapter {PARTS[2][0]}) or leave --text out")
    # the second half reads a build's report (read first: a wrong --assistant fails before any training)
    run = ((build_run(assistant, text or DEFAULT_TEXT) if assistant else shipped_run(text or DEFAULT_TEXT))
           if any(n in PARTS[2] for n in numbers) else None)
    figure_lang = drawing.figure_language(lang)
    if dry_run:  # what would be read is read; nothing is trained or drawn
        if checkpoint is not None:
            from ..checkpoint import load

            load(checkpoint)
        elif any(n in PARTS[1] for n in numbers):
            from ..inference import load_dataset

            load_dataset(data)
        console.print("dry run: every option checked; nothing was trained, drawn or written")
        return

    # a drawing process per core, but no more than there are figures (a single one is drawn right here)
    workers = min(os.cpu_count() or 1, sum(len(CHAPTERS[n - 1].FIGURES) for n in numbers))
    folder = out / figure_lang  # each language's figures apart: switching --lang redraws nothing of the other's
    with Gallery(folder, workers, lang=figure_lang) as gallery:
        if gallery.missing(numbers):  # figures will be drawn: the drawing processes get ready while Ming trains
            gallery.start()
        ming = kitchen = None
        intro = []  # the second half alone opens with its own chapter 9
        if any(n in PARTS[1] for n in numbers):  # Ming is trained (or read) only when his chapters are told
            with Progress(TextColumn(t("tour.training")), BarColumn(), MofNCompleteColumn(), console=console,
                          transient=True) as progress:
                task = progress.add_task("train", total=None)
                ming = prepare(data, str(checkpoint) if checkpoint else None, engine, retrain,
                               on_step=lambda step, steps: progress.update(task, completed=step, total=steps))
            intro = [t("tour.intro", n_params=f"{count_params(ming.final.config):,}"), origin(ming, t)]
            kitchen = open_kitchen(ming)
        console.print(f"[bold]{t('tour.title')}[/]")
        for line in intro:
            console.print(line, highlight=False)

        told, drawn = [], {}
        for n in numbers:  # each chapter's figures are drawn while the next chapter is measured
            data_of_chapter = measure_one(n, kitchen, run)
            told.append(tell(n, data_of_chapter, t))
            alts = {b.name: b.alt for b in told[-1].blocks if isinstance(b, story.Figure)}
            drawn[n] = gallery.add(n, data_of_chapter, alts)
        with console.status(t("tour.drawing")):
            gallery.finish()
    # a guess is waited for only when someone is there to type it
    guess = None if no_questions or not (sys.stdin.isatty() and console.is_terminal) else console.input
    pngs = {(n, name): path for n, names in drawn.items() for name, path in names.items()}
    for ch in told:
        telling.print_chapter(console, ch, t, {name: str(path) for name, path in drawn[ch.number].items()}, guess)

    metaphor_map = story.metaphor_map(t)
    if chapter is None and part != 2:  # the map is the first half's kitchen
        console.print()
        console.print(f"[bold]{t('map.title')}[/]")
        console.print(telling.rich_table(metaphor_map))
        console.print(t("tour.end"), highlight=False)
    console.print(t("figures.written", count=len(pngs), folder=str(folder)), highlight=False)
    if figure_lang != lang:
        console.print(t("fig.language_note", family=drawing.CJK_FAMILY), highlight=False)
    if html is not None:
        page_intro = [intro[0], page_origin(ming, t)] if ming is not None else []
        atomic_write_text(html, html_page.page(t, page_intro, told, pngs, metaphor_map))
        console.print(t("html.written", path=str(html)), highlight=False)


def origin(ming, t: story.Catalogue) -> str:
    """Where this Ming comes from, in one sentence."""
    steps = f"{ming.final.run.get('step', 0):,}"
    data = ming.data_info["name"]
    if ming.origin == "trained":
        return t("origin.trained", data=data, steps=steps, seconds=f"{ming.record['seconds']:.1f}",
                 extra=f"{ming.record['extra_seconds']:.1f}", stages=ming.record["stages"], engine=ming.engine)
    if ming.origin == "cached":
        return t("origin.cached", data=data, steps=steps, folder=ming.where)
    return t("origin.checkpoint", path=ming.where, steps=steps, data=data)


def page_origin(ming, t: story.Catalogue) -> str:
    """The same, for the page: readers of a shared page have neither this machine's paths nor its flags."""
    return t("origin.page", data=ming.data_info["name"], steps=f"{ming.final.run.get('step', 0):,}",
             engine=ming.final.run.get("engine") or ming.engine)
