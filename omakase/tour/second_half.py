"""What the second half of the tour reads: an assistant build's measurements, and how its rates are written.

The second half (chapters 9-15: word-pieces to service) tells a run of `omakase
assistant build` and of `omakase service`. By default that is the run shipped
with the package (shipped.py: the cpu preset's report, its tokenizer, and the
service report of the bigger Ming), so it is told on any machine, PyTorch or
not; `omakase tour --assistant DIR` tells the reader's own build instead. Nothing
here trains or runs a model: every number is read from a report, except what
costs nothing to compute live (the BPE cutting the reader's own sentence).

A rate is always written with its 95% interval and its count, as the build
measured it: "84% [78%, 88%] (n=200)".
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import shipped
from ..bpe import BPE
from ..errors import OmakaseError

# The reader's sentence when they give none: the video's example, which the build's own report cuts too.
DEFAULT_TEXT = "How many r's are in strawberry?"
BUILD_COMMAND = "omakase assistant build --preset quick --out DIR"


@dataclass
class AssistantRun:
    """One assistant build's measurements (report.json), its tokenizer, and the service measurements."""

    report: dict
    tokenizer: BPE | None
    service: list[dict]
    origin: str  # "shipped" or "build"
    where: str  # the build's folder, or the shipped file's name
    date: str
    text: str = DEFAULT_TEXT  # the reader's own sentence, cut live by the tokenizer
    service_date: str = ""
    extra: dict = field(default_factory=dict)
    sweep: dict | None = None  # `omakase service sweep` (always the shipped one: it needs no build)

    @property
    def preset(self) -> str:
        return str(self.report.get("preset", "?"))

    @property
    def machine(self) -> dict:
        m = self.report.get("machine") or {}
        return {"cpu": m.get("cpu", "?"), "cores": m.get("cores", "?"), "torch": m.get("torch", "?")}

    def hack(self, name: str) -> dict | None:
        """One service hack's table ({"columns", "rows", "notes", "setup"}), or None."""
        return next((h for h in self.service if h.get("hack") == name), None)


def shipped_run(text: str = DEFAULT_TEXT) -> AssistantRun:
    """The run shipped with the package, checked against its sha256."""
    return AssistantRun(shipped.load("assistant"), BPE.from_dict(shipped.load("tokenizer")), shipped.load("service"),
                        "shipped", shipped.SHIPPED["assistant"].file, shipped.SHIPPED["assistant"].date, text,
                        shipped.SHIPPED["service"].date, sweep=shipped_sweep())


def build_run(folder: str | Path, text: str = DEFAULT_TEXT) -> AssistantRun:
    """The reader's own build in `folder` (its report.json and tokenizer.json); service stays the shipped one."""
    folder = Path(folder)
    report_path = folder / "report.json"
    if not report_path.is_file():
        raise OmakaseError(f"--assistant {folder} holds no report.json; build one with "
                           f"`{BUILD_COMMAND.replace('DIR', str(folder))}`, or leave --assistant out "
                           f"to tour the shipped run")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OmakaseError(f"{report_path} cannot be read as JSON ({e}); build the assistant again") from None
    missing = [key for key in ("preset", "tokenizer", "corpus", "base", "format") if key not in report]
    if not isinstance(report, dict) or missing:
        raise OmakaseError(f"{report_path} is not a finished `omakase assistant build` report (no "
                           f"{', '.join(missing) or 'object'}); let the build finish, or build it again")
    tokenizer = BPE.load(folder / "tokenizer.json") if (folder / "tokenizer.json").is_file() else None
    # a report written before builds recorded their date is dated by the file itself
    date = report.get("date") or datetime.date.fromtimestamp(report_path.stat().st_mtime).isoformat()
    return AssistantRun(report, tokenizer, shipped.load("service"), "build", str(folder), date, text,
                        shipped.SHIPPED["service"].date, sweep=shipped_sweep())


def shipped_sweep() -> dict:
    """The shipped size sweep, with the day it was run."""
    return shipped.load("sweep") | {"date": shipped.SHIPPED["sweep"].date}


def share(x: float) -> str:
    """A share as a percentage: whole percents from 10% up, one decimal below (0.5% is not 0%)."""
    return f"{100 * x:.0f}%" if x >= 0.1 else f"{100 * x:.1f}%"


def rate(r: dict | None) -> str:
    """A measured rate with its 95% interval and count: "84% [78%, 88%] (n=200)"."""
    if not r:
        return "—"
    return f"{share(r['share'])} [{share(r['low'])}, {share(r['high'])}] (n={r['n']:,})"


def overlap(a: dict, b: dict) -> bool:
    """Whether two rates' 95% intervals overlap: then the run cannot tell them apart."""
    return a["low"] <= b["high"] and b["low"] <= a["high"]


def pieces(bpe: BPE, text: str) -> list[dict]:
    """`text` as the tokenizer cuts it: each piece's id and its text (a byte sequence cut mid-character shows
    its bytes)."""
    out = []
    for i in bpe.encode(text):
        raw = bpe.piece(i)
        try:
            shown = raw.decode("utf-8")
        except UnicodeDecodeError:
            shown = "".join(f"\\x{b:02x}" for b in raw)
        out.append({"id": i, "text": shown, "bytes": len(raw)})
    return out


def run_info(run: AssistantRun) -> dict:
    """Which run a chapter tells, as plain data (a chapter's data holds it, so its figures and words can say it)."""
    return {"origin": run.origin, "where": run.where, "preset": run.preset, "seed": run.report.get("seed", "?"),
            "machine": run.machine, "date": run.date, "command": run.report.get("command", "")}


def run_line(info: dict, t) -> str:
    """The sentence that opens a chapter of the second half: whose numbers these are."""
    return t(f"p2.run.{info['origin']}", **{k: str(v) for k, v in info.items() if k != "machine"},
             machine=machine(info["machine"], t))


def machine(m: dict, t) -> str:
    """The machine a run was measured on, in the reader's language: "AMD EPYC, 2 cores, PyTorch 2.13.0+cpu"."""
    return t("p2.machine", cpu=m["cpu"], cores=m["cores"], torch=m["torch"])


def tag(info: dict, t) -> str:
    """The short name of the run, for a sentence that states a rate: "the shipped cpu run of 2026-11-28"."""
    return t(f"p2.tag.{info['origin']}", preset=info["preset"], date=info["date"])
