"""One figure per hack, drawn from its measured rows (the CSV beside it holds the same numbers)."""

from __future__ import annotations

import textwrap

from ..report_folder import PALETTE, pyplot
from .measured import Measured


def _tick(v) -> str:
    return f"{v / 1e6:.1f} M" if v >= 1e6 else f"{v:,}" if isinstance(v, int) else f"{v:g}"


def draw(m: Measured):
    """A matplotlib figure of m.plot's columns (one line per column, or per value of the series column)."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    p = m.plot
    fig, ax = plt.subplots(figsize=(6.4, 4))
    groups = {None: m.rows}
    if p.series:
        s = m.columns.index(p.series)
        groups = {}
        for row in m.rows:
            groups.setdefault(row[s], []).append(row)
    x = m.columns.index(p.x)
    colour = iter(PALETTE * 4)
    for key, rows in groups.items():
        for column in p.y:
            y = m.columns.index(column)
            label = column if key is None else f"{key}: {column}" if len(p.y) > 1 else str(key)
            ax.plot([r[x] for r in rows], [r[y] for r in rows], marker="o", color=next(colour), label=label)
    ax.set_xlabel(p.xlabel)
    ax.set_ylabel(p.ylabel)
    if p.hline is not None:
        ax.axhline(p.hline, color="grey", linestyle="--", linewidth=1)
    if p.logx:
        ax.set_xscale("log", base=p.logbase)
        values = sorted({r[x] for r in m.rows})
        if len(values) <= 8:  # few sizes: a tick at each, as readable numbers (1,024; 92.0 M)
            ax.set_xticks(values, [_tick(v) for v in values])
            ax.xaxis.set_minor_formatter(NullFormatter())
    if p.logy:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 0.5, 1, 2, 5, 10, 20 ...
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_title(m.title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if m.caption:  # the finding, computed from the rows, under the plot (the PNG travels without its report)
        fig.text(0.5, -0.02, textwrap.fill(m.caption, 100), ha="center", va="top", fontsize=7)
    return fig
