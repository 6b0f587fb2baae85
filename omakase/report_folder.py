"""Where an experiment's results go: one folder with Markdown, PNG figures and the data behind them.

A report is never silently replaced: writing into a folder that already holds
a report.md needs force=True (the CLI's --force). Without a chosen folder, each
run gets a new numbered one (lab-reports/eval-001, service-reports/all-001, ...).
The tasting lab and the service hacks write their reports through it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .errors import OmakaseError

# Okabe-Ito: distinguishable with the common forms of colour blindness.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def next_report_dir(stem: str, parent: str | Path) -> Path:
    """parent/stem-001, stem-002, ...: a fresh folder, reserved at once.

    The number is taken by creating the folder exclusively, so a second run, even one
    started at the same moment, never meets the first one's report.
    """
    parent = Path(parent)
    if parent.exists() and not parent.is_dir():
        raise OmakaseError(f"{parent} is a file, so reports cannot go in it; move it away or choose an output folder")
    parent.mkdir(parents=True, exist_ok=True)
    i = 1
    while True:
        path = parent / f"{stem}-{i:03d}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            i += 1


def check_out(out: str | Path, force: bool = False) -> None:
    """Refuse, before any work, a report folder that is a file or already holds a report (without force)."""
    out = Path(out)
    if (out / "report.md").exists() and not force:
        raise OmakaseError(f"{out}/report.md already exists; pass --force to overwrite it or choose another --out")
    if out.exists() and not out.is_dir():
        raise OmakaseError(f"--out {out} is a file, not a folder; choose a folder path")


class Report:
    def __init__(self, out: str | Path, force: bool = False):
        self.dir = Path(out)
        check_out(self.dir, force)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, header: list[str], rows: list[list]) -> None:
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "---|" * len(header))
        for row in rows:
            self.lines.append("| " + " | ".join(str(c) for c in row) + " |")
        self.lines.append("")

    def csv(self, name: str, header: list[str], rows: list[list]) -> Path:
        path = self.dir / name
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def json(self, name: str, data) -> Path:
        path = self.dir / name
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def figure(self, fig, name: str, caption: str) -> Path:
        path = self.dir / name
        fig.savefig(path, dpi=120, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.lines.append(f"![{caption}]({name})\n")
        return path

    def write(self) -> Path:
        path = self.dir / "report.md"
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


def pyplot():
    """matplotlib's pyplot on the Agg backend: files only, no display needed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
