"""The tour in the terminal: a chapter's blocks printed with rich.

Chinese has no spaces, so rich folds a long run at any character, and a line can start with a
"，" or a "：". Text here wraps as rich does, then moves each cut back past such marks (kinsoku,
the rule Chinese and Japanese typesetting follow): a closing mark never starts a line and an
opening one never ends it.
"""

from __future__ import annotations

from rich._wrap import divide_line
from rich.console import Group
from rich.containers import Lines
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text as RichText

from .story import Catalogue, Chapter, Figure, Hint, Para, Question, Summary, Table


def print_chapter(console, chapter: Chapter, t: Catalogue, figure_paths: dict[str, str], guess=None) -> None:
    """`guess`: a function that waits for the reader's guess (interactive sessions), or None."""
    console.print()
    console.print(Rule(Text(chapter.title, style="bold")))
    for block in chapter.blocks:
        if isinstance(block, Para):
            say(console, Text(block.text))
        elif isinstance(block, Hint):
            say(console, Text(block.text, style="italic"))
        elif isinstance(block, Table):
            console.print(rich_table(block))
        elif isinstance(block, Figure) and block.name in figure_paths:
            say(console, Text(t("fig.saved", path=figure_paths[block.name]), style="dim"))
        elif isinstance(block, Question):
            say(console, joined(Text(f"? {t('question.label')} ", style="bold magenta"), Text(block.text)))
            if guess is not None:
                guess(t("question.prompt"))
            say(console, joined(Text(f"  {t('question.answer')} ", style="bold"), Text(block.answer)))
        elif isinstance(block, Summary):
            say(console, joined(Text(f"▶ {t('summary.label')} ", style="bold cyan"), Text(block.text, style="bold")))


def rich_table(table: Table) -> RichTable:
    out = RichTable(show_lines=False, header_style="bold")
    for i, header in enumerate(table.headers):
        longest = max((len(row[i]) for row in table.rows), default=0)
        # short cells (numbers, labels) are never broken; headers and long text wrap instead
        out.add_column(header, overflow="fold", min_width=longest if longest <= 16 else None)
    for row in table.rows:
        out.add_row(*[Text(cell) for cell in row])
    return out


NO_LINE_START = set("，。、：；！？）】》」』〉〕…％·,.:;!?)]}%")  # marks that close: they stay with what they close
NO_LINE_END = set("（【《「『〈〔([{")  # marks that open: they stay with what they open


def kinsoku_cuts(text: str, width: int, fold: bool = True) -> list[int]:
    """Where rich would cut `text` into lines of `width` cells, each cut moved back (by as few characters
    as it takes) so that no line starts with a closing mark or ends with an opening one."""
    cuts, start = [], 0
    while True:
        ahead = divide_line(text[start:], width, fold=fold)
        if not ahead:
            return cuts
        cut = start + ahead[0]
        moved = cut
        while moved - 1 > start and not text[moved - 1].isspace() and (
                text[moved] in NO_LINE_START or text[moved - 1] in NO_LINE_END):
            moved -= 1
        cut = moved if moved - 1 > start else cut  # a line of nothing but marks: rich's cut stays
        cuts.append(cut)
        start = cut


def say(console, text: "Text") -> None:
    """Print one of our Texts: console.print merges bare Texts into a rich Text (losing our wrap); a
    Group renders it as it is."""
    console.print(Group(text))


def joined(*parts: RichText) -> "Text":
    """Styled pieces as one Text of ours (rich's `+` would make a plain rich Text)."""
    out = Text()
    for part in parts:
        out.append_text(part)
    return out


class Text(RichText):
    """rich's Text, wrapped with kinsoku_cuts (every paragraph and table cell of the tour)."""

    def wrap(self, console, width: int, *, justify=None, overflow=None, tab_size: int = 8, no_wrap=None) -> Lines:
        if no_wrap or self.no_wrap or overflow == "ignore":
            return super().wrap(console, width, justify=justify, overflow=overflow, tab_size=tab_size, no_wrap=no_wrap)
        wrap_overflow = overflow or self.overflow or "fold"
        lines = Lines()
        for line in self.split(allow_blank=True):
            if "\t" in line:
                line.expand_tabs(tab_size)
            pieces = line.divide(kinsoku_cuts(str(line), width, fold=wrap_overflow == "fold"))
            for piece in pieces:
                piece.rstrip_end(width)
            pieces.justify(console, width, justify=justify or self.justify or "default", overflow=wrap_overflow)
            for piece in pieces:
                piece.truncate(width, overflow=wrap_overflow)
            lines.extend(pieces)
        return lines
