"""What the model actually reads: text shown as coloured word-pieces with their ids (like Tiktokenizer).

A diner reads "strawberry"; the model receives a few numbers, each standing for
a piece such as " stra" or "berry". Counting the r's means knowing the letters
inside every piece, and nothing in an id says what they are: the model can only
have learned it, piece by piece, from text that happened to spell them out.

    pieces(bpe, text)   -> [(id, bytes), ...]        the pieces, in order
    terminal(bpe, text) -> rich Text                 alternating backgrounds, ids optional
    html(bpe, text)     -> str                       a self-contained page (no script)
    strawberry(bpe)     -> Strawberry                how a word's letters hide inside its pieces
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass

from ...bpe import BPE

# Soft backgrounds that tell neighbours apart on a dark or light terminal and on paper.
# Named colours, so that a 16-colour terminal still tells neighbours apart.
TERMINAL_COLOURS = ("black on bright_cyan", "black on bright_magenta", "black on bright_green",
                    "black on bright_yellow", "black on bright_white")
HTML_COLOURS = ("#cfe0fc", "#fcd3de", "#d2f4d6", "#fdeac4", "#e6d6fb")


def pieces(bpe: BPE, text: str) -> list[tuple[int, bytes]]:
    """Each token of `text` with the bytes it stands for; the bytes joined are the text's UTF-8."""
    return [(i, bpe.piece(i)) for i in bpe.encode(text)]


def shown(piece: bytes) -> str:
    """A piece as readable text: a character cut between pieces shows as \\x.. escapes, a newline as ↵."""
    return piece.decode("utf-8", "backslashreplace").replace("\n", "↵\n").replace("\t", "→")


def terminal(bpe: BPE, text: str, ids: bool = False):
    """A rich Text: each piece on its own background colour, with its id after it when `ids`."""
    from rich.text import Text

    out = Text()
    for n, (i, piece) in enumerate(pieces(bpe, text)):
        style = TERMINAL_COLOURS[n % len(TERMINAL_COLOURS)]
        out.append(shown(piece), style=style)
        if ids:
            out.append(f"{i}", style=f"dim {style}")
    return out


def html(bpe: BPE, text: str, title: str = "Tokens") -> str:
    """A self-contained HTML page: the coloured pieces, each with its id below it and in its title."""
    found = pieces(bpe, text)
    spans = []
    for n, (i, piece) in enumerate(found):
        label = html_lib.escape(shown(piece)).replace(" ", "&middot;").replace("\n", "")
        spans.append(f'<span class="t" style="background:{HTML_COLOURS[n % len(HTML_COLOURS)]}" '
                     f'title="id {i}: {html_lib.escape(repr(piece))}">{label}<sub>{i}</sub></span>')
        if piece.endswith(b"\n"):
            spans.append("<br>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html_lib.escape(title)}</title>
<style>
body {{ font-family: ui-monospace, monospace; max-width: 60rem; margin: 2rem auto; }}
.tokens {{ line-height: 2.6; }}
.t {{ display: inline-block; padding: 0 2px; margin: 1px; border-radius: 3px; white-space: pre; }}
.t sub {{ display: block; font-size: 0.6em; line-height: 1; color: #555; text-align: center; }}
</style></head><body>
<h1>{html_lib.escape(title)}</h1>
<p>{len(text):,} characters, {len(text.encode("utf-8")):,} bytes, {len(found):,} tokens
({bpe.describe()}). A dot is a space; the small number is the token's id.</p>
<p class="tokens">{"".join(spans)}</p>
</body></html>
"""


@dataclass
class Strawberry:
    question: str
    word: str
    letter: str
    ids: list[int]  # the tokens the word's letters fall in, in order
    pieces: list[bytes]  # their bytes
    letters: int  # how many times `letter` is in `word` (counted from the text)
    per_piece: list[int]  # how many times it is in each piece

    @property
    def letters_visible(self) -> bool:
        """True only if every piece is one letter: then the ids spell the word out."""
        return all(len(p) == 1 for p in self.pieces)

    def sentence(self) -> str:
        shown_pieces = " + ".join(repr(shown(p)) for p in self.pieces)
        reads = f"The model reads {len(self.ids)} number{'s' if len(self.ids) != 1 else ''}"
        hidden = (f"{reads}, one per letter: here the ids do spell the word out" if self.letters_visible else
                  f"{reads}, not letters: the ids {self.ids} say nothing about which letters are inside them; to "
                  f"answer, the model must have learned the spelling of each piece "
                  f"({' + '.join(map(str, self.per_piece))} = {sum(self.per_piece)} {self.letter!r} in all)")
        return (f"In {self.question!r}, {self.word!r} ({len(self.word)} letters, {self.letters} {self.letter!r}) "
                f"becomes {len(self.pieces)} piece{'s' if len(self.pieces) != 1 else ''}: {shown_pieces}. {hidden}.")


def strawberry(bpe: BPE, word: str = "strawberry", letter: str = "r",
               question: str = "How many r's are in strawberry?") -> Strawberry:
    """How `word`, as it sits in `question`, is cut into pieces, and where its `letter`s went."""
    at = question.find(word)
    if at < 0:
        question = f"{question} {word}"
        at = len(question) - len(word)
    start = len(question[:at].encode("utf-8"))
    end = start + len(word.encode("utf-8"))
    ids, chosen, offset = [], [], 0
    for i, piece in pieces(bpe, question):  # the pieces that hold any byte of the word
        if offset < end and offset + len(piece) > start:
            ids.append(i)
            chosen.append(piece)
        offset += len(piece)
    target = letter.encode("utf-8")
    return Strawberry(question, word, letter, ids, chosen, word.count(letter),
                      [p.count(target) for p in chosen])
