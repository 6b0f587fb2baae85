"""The tour's figures as files: each drawn from its chapter's data, or kept when nothing it shows has changed.

Each figure is written three ways into the output folder: PNG (for slides),
SVG (for the page, crisp at any size, and for print) and CSV (the numbers behind
it, so anyone can redraw or check it). The alt text goes into the PNG and SVG
metadata too.

Drawing is most of a first tour's time, so it overlaps the rest: worker
processes (matplotlib holds the GIL: threads would not help) draw a chapter's
figures while the next chapter is measured. Each worker imports matplotlib and
draws a first small figure to nowhere as it starts; when the folder lacks some
of the figures, `start` is called before Ming is trained, so the workers get
ready while he trains. A figure whose data, words
and code are unchanged since it was written (the manifest says so) is kept as it
is, so an English tour whose figures are all kept never imports matplotlib (a
Chinese one asks matplotlib's font list whether it can draw Chinese).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from importlib import import_module
from importlib.metadata import version
from pathlib import Path

from . import drawing
from .chapters import CHAPTERS

# What drawing needs, imported by each drawing process as it starts
PRELOAD = ["matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg"]
MANIFEST = ".figures.json"  # in the output folder: what each figure was drawn from
MATPLOTLIB = version("matplotlib")  # a new matplotlib may draw differently: it redraws every figure
_sources: dict[str, bytes] = {}


def source(module) -> bytes:
    """The code a chapter's figures are drawn by: its module, the shared drawing helpers and this file's
    draw_one (read once)."""
    paths = (module.__file__, drawing.__file__, __file__)
    for path in paths:
        if path not in _sources:
            _sources[path] = Path(path).read_bytes()
    return b"".join(_sources[path] for path in paths)


def digest(number: int, name: str, d: dict, alt: str, lang: str) -> str:
    """A fingerprint of everything a figure depends on: its data, its words, its chapter's code, matplotlib."""
    blob = json.dumps([number, name, d, alt, lang, MATPLOTLIB], sort_keys=True,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else repr(o))
    return hashlib.sha256(source(CHAPTERS[number - 1]) + blob.encode()).hexdigest()


def draw_one(make, d: dict, alt: str, stem: Path, lang: str = "en") -> None:
    """Draw one figure with `make` (a chapter's figure function), labelled in `lang`; write PNG, SVG and CSV."""
    import matplotlib

    name, style = make.__name__, drawing.style(lang)
    # the tour's style, without touching matplotlib's global state, for the whole drawing: the ticks are
    # made as the figure is drawn, and take the font size of the moment
    with matplotlib.rc_context(style):
        fig, rows = make(d, drawing.words(lang))
        # Laid out once, here, at the PNG's resolution; then saved with no layout engine at all, so that
        # neither save first draws the whole figure to nowhere to lay it out (savefig does, even for the
        # "none" engine): half the drawing, and the very files savefig's own layout gives
        fig.set_dpi(drawing.DPI)
        fig.get_layout_engine().execute(fig)
        fig.set_layout_engine(None)  # None means the rc's engine, and the tour's style has none
        fig.savefig(stem.with_suffix(".png"), dpi=drawing.DPI, metadata={"Title": name, "Description": alt})
        # a salt per figure keeps the SVG's internal ids distinct when the page inlines every figure,
        # and with no date the same data always gives the same file
        with matplotlib.rc_context({"svg.hashsalt": stem.name}):
            fig.savefig(stem.with_suffix(".svg"), metadata={"Title": name, "Description": alt, "Date": None})
    with open(stem.with_suffix(".csv"), "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def get_ready(lang: str) -> None:
    """Before the figures come: import what drawing needs, find the CJK font, and draw a small figure to
    nowhere (a process's first figure also loads the fonts)."""
    for module in PRELOAD:
        import_module(module)
    import matplotlib

    with matplotlib.rc_context(drawing.style(lang)):
        fig, ax = drawing.subplots(figsize=(2, 1))
        ax.plot([1, 2], [1, 10])
        ax.set(title=drawing.words(lang)("bell"))
        fig.savefig(io.BytesIO(), format="png", dpi=drawing.DPI)
        fig.savefig(io.BytesIO(), format="svg")


class Gallery:
    """The figures of a tour in `out`, labelled in `lang` (give it drawing.figure_language's answer).

    `add` each chapter as soon as it is measured; `finish` waits for the drawing and writes the manifest.
    Use it as a context manager: the drawing processes end with it.
    """

    def __init__(self, out: Path, workers: int = 1, lang: str = "en"):
        self.out, self.workers, self.lang = out, workers, lang
        try:
            self.manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.manifest = {}
        self.pool = None
        self.drawing: list[tuple[str, str, object]] = []  # (file stem, digest, the worker's future or None)

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *error) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def missing(self, numbers) -> bool:
        """Whether any figure of these chapters is not in the folder yet (then drawing is certain)."""
        return any(f"ch{n}-{make.__name__}" not in self.manifest for n in numbers for make in CHAPTERS[n - 1].FIGURES)

    def start(self) -> None:
        """Start the drawing processes (when there are several), each getting ready as it starts."""
        if self.workers > 1 and self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # forked (where there is fork), the workers inherit numpy and omakase already imported; each
            # imports matplotlib itself, overlapping Ming's training in this process
            fork = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
            self.pool = ProcessPoolExecutor(self.workers, mp_context=fork, initializer=get_ready,
                                            initargs=(self.lang,))
            self.pool.submit(int)  # the workers start now (and get ready) rather than at the first figure

    def add(self, number: int, d: dict, alts: dict[str, str]) -> dict[str, Path]:
        """Chapter `number`'s figures from its data and alt texts: drawn (or queued) when changed, else kept.

        Returns {figure name: PNG path}.
        """
        self.out.mkdir(parents=True, exist_ok=True)
        paths = {}
        for make in CHAPTERS[number - 1].FIGURES:
            stem = self.out / f"ch{number}-{make.__name__}"
            alt = alts.get(make.__name__, "")
            key = digest(number, make.__name__, d, alt, self.lang)
            paths[make.__name__] = stem.with_suffix(".png")
            if self.manifest.get(stem.name) == key and all(stem.with_suffix(x).is_file()
                                                           for x in (".png", ".svg", ".csv")):
                continue
            self.manifest.pop(stem.name, None)
            job = (make, d, alt, stem, self.lang)
            self.start()
            if self.pool is not None:
                self.drawing.append((stem.name, key, self.pool.submit(draw_one, *job)))
            else:
                draw_one(*job)
                self.drawing.append((stem.name, key, None))
        return paths

    def finish(self) -> None:
        """Wait for every figure being drawn (a failure in a worker surfaces here), then write the manifest."""
        for name, key, future in self.drawing:
            if future is not None:
                future.result()
            self.manifest[name] = key
        self.drawing = []
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / MANIFEST).write_text(json.dumps(self.manifest, indent=1, sort_keys=True), encoding="utf-8")


def draw(chapters: dict[int, tuple[dict, dict[str, str]]], out: Path, workers: int = 1,
         lang: str = "en") -> dict[int, dict[str, Path]]:
    """Every figure of the chapters given as {number: (data, alt texts)}, drawn into `out` by `workers`
    processes (or kept, when unchanged); returns {number: {name: PNG path}}."""
    with Gallery(out, workers, lang) as gallery:
        paths = {number: gallery.add(number, d, alts) for number, (d, alts) in chapters.items()}
        gallery.finish()
    return paths
