"""Chapter 2, courses and numbers: the tokenizer's numbering, and the flavor cards (embeddings) training moves."""

from __future__ import annotations

import numpy as np

from ..drawing import BLUE, GREY, ORANGE, SKY, course_label, rectangle, subplots
from ..live_model import Kitchen
from ..ming import initial
from ..story import Catalogue, Figure, Para, Question, Table, course, courses_text, kitchen_table

VOWELS = frozenset("aeiou")


def measure(k: Kitchen) -> dict:
    tok = k.tokenizer
    before = initial(k.ming).params["wte"]
    after = k.ming.final.params["wte"]
    labels = [tok.label(i) for i in range(tok.vocab_size)]
    course = tok.encode(k.example)[1]
    tokens = tok.encode(k.example)
    return {
        "first_char": tok.chars[0], "last_char": tok.chars[-1], "last_id": len(tok.chars) - 1, "bell": tok.bos,
        "example": k.example, "tokens": tokens, "token_labels": [tok.label(t) for t in tokens],
        "course": tok.label(course), "card_before": before[course], "card_after": after[course],
        "labels": labels, "cards_before": before, "cards_after": after, "n_embd": k.config.n_embd,
        "alike": most_alike(after, labels, 3),
        "alike_before": most_alike(before, labels, 1)[0],  # the baseline: random cards can point alike too
        "map_before": pca_map(before), "map_after": pca_map(after),
        "vowels": [lab for lab in labels if lab.lower() in VOWELS],
        "vowel_distances": {"before": vowel_distances(before, labels), "after": vowel_distances(after, labels)},
        "served": served_counts(k),
        "studied": min(k.run.step * k.run.plan.batch_size, k.run.n_train),
    }


def served_counts(k: Kitchen) -> list[int]:
    """How often each course was served into Ming (a card is read, and so taught, only when its course goes in)
    in the menus he studied, in his order: the bell that opens each menu counts, the closing one does not."""
    counts = [0] * k.tokenizer.vocab_size
    studied = min(k.run.step * k.run.plan.batch_size, k.run.n_train)
    for doc in k.run.train_docs[:studied]:
        tokens = k.run.encode(doc)
        for token in tokens[: min(k.config.block_size, len(tokens) - 1)]:
            counts[token] += 1
    return counts


def pca_map(cards: list[list[float]]) -> dict:
    """Every card squeezed to two numbers: its place along the two directions the cards spread most (PCA)."""
    centred = np.array(cards) - np.mean(cards, axis=0)
    _, spread, directions = np.linalg.svd(centred, full_matrices=False)
    return {"points": (centred @ directions[:2].T).tolist(),
            "kept": float((spread[:2] ** 2).sum() / (spread**2).sum())}  # the share of the spread the map shows


def vowel_distances(cards: list[list[float]], labels: list[str]) -> dict | None:
    """Mean distance (all n_embd numbers) between two vowels' cards, and between a vowel's and a consonant's."""
    vowels = [i for i, lab in enumerate(labels) if lab.lower() in VOWELS]
    consonants = [i for i, lab in enumerate(labels) if lab.isalpha() and lab.lower() not in VOWELS]
    if len(vowels) < 2 or not consonants:
        return None
    cards = np.array(cards)
    dist = np.linalg.norm(cards[:, None] - cards[None], axis=-1)
    among = dist[np.ix_(vowels, vowels)][np.triu_indices(len(vowels), 1)]  # each pair of vowels once
    return {"among_vowels": float(among.mean()), "vowel_consonant": float(dist[np.ix_(vowels, consonants)].mean())}


def most_alike(cards: list[list[float]], labels: list[str], n: int) -> list[tuple[str, str, float]]:
    """The n pairs of cards pointing most nearly the same way (cosine similarity)."""
    unit = np.array(cards)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    cos = unit @ unit.T
    pairs = [(cos[i, j], i, j) for i in range(len(cards)) for j in range(i + 1, len(cards))]
    return [(labels[i], labels[j], float(c)) for c, i, j in sorted(pairs, reverse=True)[:n]]


def tell(d: dict, t: Catalogue) -> list:
    card = lambda values: " ".join(f"{x:+.2f}" for x in values)  # noqa: E731
    pairs = t.join(t("ch2.pair", a=course(t, a), b=course(t, b), cosine=f"{c:.2f}") for a, b, c in d["alike"])
    return [
        Para(t("ch2.numbering", first=course(t, d["first_char"]), last=course(t, d["last_char"]), last_id=d["last_id"],
               bell=d["bell"])),
        Para(t("ch2.example", example=d["example"], tokens=str(d["tokens"]))),
        kitchen_table(t, [("course", courses_text(t, d["token_labels"]), "ours"), ("number", str(d["tokens"]), "ours"),
                          ("bell", str(d["bell"]), "ours")]),
        Figure("tokens", t("fig.tokens.alt", example=d["example"], tokens=str(d["tokens"]), bell=d["bell"])),
        Para(t("ch2.card", n_embd=d["n_embd"], course=d["course"])),
        Table([t("col.card"), t("col.value"), t("col.whose")], [
            [t("ch2.before", course=d["course"]), card(d["card_before"]), t("whose.ours")],
            [t("ch2.after", course=d["course"]), card(d["card_after"]), t("whose.ours")]]),
        Para(t("ch2.alike", pairs=pairs, before=t("ch2.pair", a=course(t, d["alike_before"][0]),
                                                    b=course(t, d["alike_before"][1]),
                                                    cosine=f"{d['alike_before'][2]:.2f}"))),
    ] + [Para(text) for text in [map_finding(d, t, "ch2")] if text] + [
        Figure("card_map", map_finding(d, t, "fig.card_map") or t("fig.card_map.alt", n_courses=len(d["labels"]))),
        Question(*question(d, t)),
    ]


def map_finding(d: dict, t: Catalogue, prefix: str) -> str | None:
    """The card map's finding in one sentence: do the vowels' cards sit together after training, as they did
    not before? None when the courses have no vowels to compare (not letters of a name)."""
    before, after = d["vowel_distances"]["before"], d["vowel_distances"]["after"]
    if not before or not after:
        return None
    ratio = lambda x: x["among_vowels"] / x["vowel_consonant"]  # noqa: E731  below 1: vowels closer together
    together = ratio(after) < 0.9 and ratio(after) < ratio(before)
    return t(f"{prefix}.vowels" if together else f"{prefix}.vowels_not", among=f"{after['among_vowels']:.2f}",
             mixed=f"{after['vowel_consonant']:.2f}", among_before=f"{before['among_vowels']:.2f}",
             mixed_before=f"{before['vowel_consonant']:.2f}")


def question(d: dict, t) -> tuple[str, str]:
    moved = np.linalg.norm(np.subtract(d["cards_after"], d["cards_before"]), axis=1)
    served = np.array(d["served"])
    most, least = int(moved.argmax()), int(moved.argmin())
    rho = rank_correlation(served, moved)
    values = {"most": course(t, d["labels"][most]), "most_by": f"{moved[most]:.2f}", "most_n": f"{served[most]:,}",
              "least": course(t, d["labels"][least]), "least_by": f"{moved[least]:.2f}",
              "least_n": f"{served[least]:,}", "studied": f"{d['studied']:,}", "n": len(moved), "rho": f"{rho:.2f}"}
    return t("q2.ask", studied=f"{d['studied']:,}"), t("q2.answer" if rho >= 0.5 else "q2.answer_weak", **values)


def rank_correlation(a, b) -> float:
    """Spearman's rank correlation: 1 when b grows whenever a does."""
    ranks = [np.argsort(np.argsort(x, kind="stable")).astype(float) for x in (a, b)]
    if ranks[0].std() == 0 or ranks[1].std() == 0:
        return 0.0
    return float(np.corrcoef(*ranks)[0, 1])


def tokens(d: dict, w):
    n = len(d["tokens"])
    fig, ax = subplots(figsize=(1.1 * n + 0.5, 1.6))
    for i, (label, token) in enumerate(zip(d["token_labels"], d["tokens"])):
        bell = token == d["bell"]
        ax.add_patch(rectangle((i + 0.05, 0.05), 0.9, 0.9, color=ORANGE if bell else SKY))
        ax.text(i + 0.5, 0.62, w("bell") if bell else label, ha="center", va="center", fontsize=12)
        ax.text(i + 0.5, 0.25, str(token), ha="center", va="center", fontsize=11, weight="bold")
    ax.set(xlim=(0, n), ylim=(0, 1), title=w("tokens.title", example=d["example"]))
    ax.axis("off")
    return fig, [["position", "course", "token_id"]] + [[i, lab, tok] for i, (lab, tok) in
                                                       enumerate(zip(d["token_labels"], d["tokens"]))]


def card_map(d: dict, w):
    """Every flavor card as a point (PCA: the two directions the cards spread most), before and after training."""
    fig, axes = subplots(1, 2, figsize=(8, 4))
    rows = [["when", "course", "vowel", "x", "y"]]
    vowels = set(d["vowels"])
    colour = lambda label: ORANGE if label in vowels else GREY if label == "<bell>" else BLUE  # noqa: E731
    for ax, when in zip(axes, ("before", "after")):
        flat = d[f"map_{when}"]
        xs, ys = zip(*flat["points"])
        ax.scatter(xs, ys, s=130, c=[colour(label) for label in d["labels"]], alpha=0.35, linewidths=0)
        for label, x, y in zip(d["labels"], xs, ys):
            ax.text(x, y, course_label(label, w), ha="center", va="center", fontsize=8,
                    weight="bold" if label in vowels else "normal")
            rows.append([when, label, label in vowels, x, y])
        far = d["vowel_distances"][when]  # measured on all the card's numbers, not on the squeezed map
        title = w(f"card_map.{when}") + ("\n" + w("card_map.apart", vowels=f"{far['among_vowels']:.2f}",
                                                  mixed=f"{far['vowel_consonant']:.2f}") if far else "")
        ax.set(title=title, xticks=[], yticks=[], xlabel=w("card_map.kept", kept=f"{100 * flat['kept']:.0f}"))
        ax.margins(0.08)
    fig.suptitle(w("card_map.title"), fontsize=9)
    return fig, rows


FIGURES = [tokens, card_map]
