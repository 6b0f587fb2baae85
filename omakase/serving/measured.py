"""What every hack returns: a measured table, sentences computed from it, and what to draw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plot:
    x: str  # the column on the x axis
    y: list[str]  # one line per column
    xlabel: str
    ylabel: str
    logx: bool = False
    logy: bool = False
    series: str | None = None  # a column whose values split the rows into separate lines
    hline: float | None = None  # a dashed reference line, e.g. 1.0 where a speed-up starts to pay
    logbase: int = 2


@dataclass
class Measured:
    hack: str  # kv, batch, quantize, prune, onnx, speculate, drift, laminate
    title: str
    columns: list[str]
    rows: list[list]
    notes: list[str] = field(default_factory=list)  # each computed from the rows, never written by hand
    plot: Plot | None = None
    setup: dict = field(default_factory=dict)  # what was measured: model, dtype, repeats, lengths
    caption: str = ""  # the figure's caption when it states a finding (computed, like the notes); else the title

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def to_json(self) -> dict:
        return {"hack": self.hack, "title": self.title, "columns": self.columns, "rows": self.rows,
                "notes": self.notes, "setup": self.setup}


def cell(v) -> str:
    """A number as a table shows it: integers with separators, floats to a readable precision
    (the CSV and JSON keep every digit)."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
