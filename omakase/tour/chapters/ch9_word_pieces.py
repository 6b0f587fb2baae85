"""Chapter 9, word-pieces: the menu cut into pieces instead of letters (byte-level BPE), on the reader's own text.

The pieces are cut live by the build's own tokenizer (bpe.py), so the strawberry
split printed here is the one the build's report printed, and the reader's
sentence is cut the way the assistant would read it.
"""

from __future__ import annotations

from ..drawing import BLACK, BLUE, GREY, ORANGE, SKY, monospace, rectangle, subplots
from ..second_half import AssistantRun, pieces, run_info, run_line
from ..story import Catalogue, Figure, Hint, Para, Question, Table

WORD = "strawberry"  # the video's example
BACKWARDS = WORD[::-1]  # the same letters, in an order the kitchen's internet never wrote
SHOWN = 16  # pieces listed in the table (the figure and the count cover them all)


def measure(run: AssistantRun) -> dict:
    tok = run.report["tokenizer"]
    d = {"run": run_info(run), "vocab": tok["vocab_size"], "merges": tok["merges"],
         "bytes_per_token": tok["bytes_per_token"], "text": run.text, "chars": len(run.text),
         "bytes": len(run.text.encode("utf-8")), "live": run.tokenizer is not None}
    if run.tokenizer is not None:
        d["pieces"] = pieces(run.tokenizer, run.text)
        # inside a sentence a word carries its leading space, as in "are in strawberry?"
        d["word"] = [dict(p, r=p["text"].count("r")) for p in pieces(run.tokenizer, " " + WORD)]
        d["backwards"] = pieces(run.tokenizer, " " + BACKWARDS)
    return d


def shown(text: str) -> str:
    """A piece as the reader sees it: the space as ␣."""
    return text.replace(" ", "␣").replace("\n", "⏎")


def tell(d: dict, t: Catalogue) -> list:
    blocks = [Para(t("part2.intro")), Para(run_line(d["run"], t))]
    # how to tell it from one's own build (a flag), or where that build is (a local path): for the terminal only
    blocks.append(Hint(t("part2.build_hint") if d["run"]["origin"] == "shipped"
                       else t("p2.where", where=d["run"]["where"])))
    blocks += [Para(t("ch9.letters")),
              Para(t("ch9.merges", vocab=f"{d['vocab']:,}", merges=f"{d['merges']:,}",
                     bpt=f"{d['bytes_per_token']:.2f}"))]
    if not d["live"]:
        return blocks + [Para(t("ch9.no_tokenizer")), Question(*question(d, t))]
    p = d["pieces"]
    blocks += [
        Para(t.sentences(t("ch9.yours", text=d["text"], chars=d["chars"], n=len(p), bpt=f"{d['bytes'] / len(p):.2f}"),
                         t("ch9.more_than_letters", bytes=d["bytes"]) if len(p) > d["chars"] else "",
                         t("ch9.ids"))),
        Table([t("col.piece"), t("col.id"), t("col.bytes")], [[shown(x["text"]), str(x["id"]), str(x["bytes"])]
                                                              for x in p[:SHOWN]]
              + ([[t("ch9.more", n=len(p) - SHOWN), "", ""]] if len(p) > SHOWN else [])),
        Para(t("ch9.strawberry", word=WORD, n=len(d["word"]), split=" + ".join(f"'{shown(x['text'])}'"
                                                                                for x in d["word"]),
               ids=", ".join(str(x["id"]) for x in d["word"]), r=" + ".join(str(x["r"]) for x in d["word"]),
               total=sum(x["r"] for x in d["word"]))),
        Question(*question(d, t)),  # before the figure: the figure shows the answer
        Figure("word_pieces", t("fig.pieces.alt", n=len(p), chars=d["chars"], word=WORD, n_word=len(d["word"]),
                           backwards=BACKWARDS, n_back=len(d["backwards"]))),
        Table([t("col.kitchen"), t("col.real"), t("col.value")],
              [[t("ch9.k.menu"), t("ch9.r.vocab"), f"{d['vocab']:,}"],
               [t("ch9.k.cut"), t("ch9.r.merges"), f"{d['merges']:,}"],
               [t("ch9.k.size"), t("ch9.r.bpt"), f"{d['bytes_per_token']:.2f}"],
               [t("ch9.k.ming"), t("ch9.r.chars"), "1"],
               [t("ch9.k.gpt2"), t("ch9.r.gpt2"), "50,257"]]),
        Para(t("ch9.why")),
    ]
    return blocks


def question(d: dict, t) -> tuple[str, str]:
    """Spelled backwards, the same ten letters: the reader who followed how merges are learned (the most
    frequent pairs of the kitchen's internet) can predict that a word nobody wrote falls apart."""
    if not d["live"]:
        return t("q9.ask", word=WORD, backwards=BACKWARDS, n=5), t("q9.no_answer")
    n, n_back = len(d["word"]), len(d["backwards"])
    return (t("q9.ask", word=WORD, backwards=BACKWARDS, n=len(d["word"])),
            t("q9.answer" if n_back > n else "q9.answer_same" if n_back == n else "q9.answer_fewer",
              backwards=BACKWARDS, merges=f"{d['merges']:,}", n_back=len(d["backwards"]), n=len(d["word"]),
              split=" + ".join(f"'{shown(x['text'])}'" for x in d["backwards"])))


def word_pieces(d: dict, w):
    """Three lines cut into pieces, each piece a box as wide as its bytes with its id under it."""
    fig, ax = subplots(figsize=(8, 3.6))
    if not d["live"]:  # a build without its tokenizer: nothing was cut
        ax.text(0.5, 0.5, w("pieces.none"), ha="center", va="center")
        ax.axis("off")
        return fig, [["line", "piece", "id", "bytes"]]
    yours, width = [], 0  # a long sentence is drawn as far as its first 48 bytes: the boxes stay readable
    for p in d["pieces"]:
        if yours and width + p["bytes"] > 48:
            break
        yours.append(p)
        width += p["bytes"]
    rows = [(w("pieces.yours"), yours), (f"' {WORD}'", d["word"]), (f"' {BACKWARDS}'", d["backwards"])]
    widest = max(sum(p["bytes"] for p in ps) for _, ps in rows)
    for row, (label, ps) in enumerate(rows):
        y, x = 1.3 * (len(rows) - 1 - row), 0
        ax.text(0, y + 0.85, w("pieces.row", label=label, n=len(ps)), ha="left", va="bottom", fontsize=8)
        for i, p in enumerate(ps):
            ax.add_patch(rectangle((x, y), p["bytes"], 0.8, facecolor=(SKY, ORANGE)[i % 2], edgecolor=BLACK,
                                   linewidth=0.5))
            ax.text(x + p["bytes"] / 2, y + 0.52, shown(p["text"]), ha="center", va="center", fontsize=8,
                    family=monospace())
            ax.text(x + p["bytes"] / 2, y + 0.17, str(p["id"]), ha="center", va="center", fontsize=6, color=BLUE)
            x += p["bytes"]
    ax.set(xlim=(0, max(widest, 12)), ylim=(-0.1, 1.3 * len(rows)),
           title=w("pieces.title", bpt=f"{d['bytes_per_token']:.2f}"))
    ax.set_xlabel(w("pieces.x"), color=GREY)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    data = [["line", "piece", "id", "bytes"]] + [[label, p["text"], p["id"], p["bytes"]] for label, ps in rows
                                                  for p in ps]
    return fig, data


FIGURES = [word_pieces]
