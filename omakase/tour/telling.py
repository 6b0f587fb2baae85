"""The tour in the terminal: a chapter's blocks printed with rich."""

from __future__ import annotations

from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from .story import Catalogue, Chapter, Figure, Hint, Para, Question, Summary, Table


def print_chapter(console, chapter: Chapter, t: Catalogue, figure_paths: dict[str, str], guess=None) -> None:
    """`guess`: a function that waits for the reader's guess (interactive sessions), or None."""
    console.print()
    console.print(Rule(Text(chapter.title, style="bold")))
    for block in chapter.blocks:
        if isinstance(block, Para):
            console.print(block.text, highlight=False)
        elif isinstance(block, Hint):
            console.print(Text(block.text, style="italic"))
        elif isinstance(block, Table):
            console.print(rich_table(block))
        elif isinstance(block, Figure) and block.name in figure_paths:
            console.print(Text(t("fig.saved", path=figure_paths[block.name]), style="dim"))
        elif isinstance(block, Question):
            console.print(Text(f"? {t('question.label')} ", style="bold magenta") + Text(block.text))
            if guess is not None:
                guess(t("question.prompt"))
            console.print(Text(f"  {t('question.answer')} ", style="bold") + Text(block.answer), highlight=False)
        elif isinstance(block, Summary):
            console.print(Text(f"▶ {t('summary.label')} ", style="bold cyan") + Text(block.text, style="bold"))


def rich_table(table: Table) -> RichTable:
    out = RichTable(show_lines=False, header_style="bold")
    for i, header in enumerate(table.headers):
        longest = max((len(row[i]) for row in table.rows), default=0)
        # short cells (numbers, labels) are never broken; headers and long text wrap instead
        out.add_column(header, overflow="fold", min_width=longest if longest <= 16 else None)
    for row in table.rows:
        out.add_row(*[Text(cell) for cell in row])
    return out
