"""One figure per hack, drawn from its measured rows (the CSV beside it holds the same numbers)."""

from __future__ import annotations

from ..report_folder import PALETTE, pyplot
from .measured import Measured


def draw(m: Measured):
    """A matplotlib figure of m.plot's columns (one line per column, or per value of the series column)."""
    plt = pyplot()
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
    if p.logx:
        ax.set_xscale("log", base=2)
    if p.logy:
        ax.set_yscale("log")
    ax.set_title(m.title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
