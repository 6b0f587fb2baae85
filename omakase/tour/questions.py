"""Predict, then reveal: one question per chapter, answered by the model being toured.

A reader who guesses first remembers the answer (and notices when the guess was
wrong). Each function takes its chapter's measured data and returns the question
and the answer as sentences from the catalogue; every answer is computed from
that data, never written by hand, and none of them is told earlier in its
chapter. The terminal waits for a guess in an interactive session; the page
hides the answer in a <details> element.
"""

from __future__ import annotations

import math

import numpy as np

from ..train import RUNNING_WINDOW
from .story import course


def records(d: dict, t) -> tuple[str, str]:
    share = d["longer"] / d["n_docs"]
    return (t("q1.ask", n_docs=f"{d['n_docs']:,}", example=d["example"], courses=d["example_courses"]),
            t("q1.answer", longer=f"{d['longer']:,}", share=f"{100 * share:.1f}%"))


def courses(d: dict, t) -> tuple[str, str]:
    moved = np.linalg.norm(np.subtract(d["cards_after"], d["cards_before"]), axis=1)
    most, least = int(moved.argmax()), int(moved.argmin())
    return (t("q2.ask"), t("q2.answer", most=course(t, d["labels"][most]), most_by=f"{moved[most]:.2f}",
                           least=course(t, d["labels"][least]), least_by=f"{moved[least]:.2f}"))


def assembly_line(d: dict, t) -> tuple[str, str]:
    first = [weights[0] for weights in d["attention"]]  # each chef's attention on position 1, the bell
    chef = int(np.argmax(first))
    return (t("q3.ask", n_head=d["n_head"]), t("q3.answer", chef=chef + 1, share=f"{100 * first[chef]:.1f}%"))


def scorecard(d: dict, t) -> tuple[str, str]:
    return t("q4.ask"), t("q4.answer", penalty=f"{math.log(2):.2f}")


def tracing(d: dict, t) -> tuple[str, str]:
    name, _, influence = d["dials"][0]
    change = d["nudged_change"]  # measured: the penalty recomputed with the dial turned
    return (t("q5.ask", dial=name, nudge=f"{d['nudge']:g}"),
            t("q5.answer", direction=t("q5.up") if change > 0 else t("q5.down"), change=f"{abs(change):.6f}",
              predicted=f"{influence * d['nudge']:+.6f}", influence=f"{influence:+.4f}"))


def training(d: dict, t) -> tuple[str, str]:
    losses = d["losses"]
    if not losses:
        return t("q6.ask_unknown"), t("q6.answer_unknown")
    halfway = (losses[0] + min(losses)) / 2
    running = np.convolve(losses, np.ones(RUNNING_WINDOW), "full")[: len(losses)] / np.minimum(
        np.arange(1, len(losses) + 1), RUNNING_WINDOW)
    step = int(np.argmax(running < halfway)) + 1 if (running < halfway).any() else None
    return (t("q6.ask", first=f"{losses[0]:.2f}", halfway=f"{halfway:.2f}", steps=f"{len(losses):,}"),
            t("q6.answer", step=f"{step:,}", share=f"{100 * step / len(losses):.0f}%") if step else
            t("q6.answer_never", halfway=f"{halfway:.2f}"))


def graduation(d: dict, t) -> tuple[str, str]:
    dist = d["distribution"]
    low, high = dist["probs"][0], dist["probs"][-1]
    top = int(np.argmax(low))
    return (t("q7.ask", low=f"{dist['temperatures'][0]:g}", high=f"{dist['temperatures'][-1]:g}"),
            t("q7.answer", course=course(t, dist["labels"][top]), low=f"{dist['temperatures'][0]:g}", high=f"{dist['temperatures'][-1]:g}",
              p_low=f"{100 * low[top]:.1f}%", p_high=f"{100 * high[top]:.1f}%"))


def michelin(d: dict, t) -> tuple[str, str]:
    gpt2 = d["models"][1]
    mings = gpt2["published"] / d["models"][0]["formula"]
    return (t("q8.ask", model=gpt2["name"], published=f"{gpt2['published']:,.0f}"),
            t("q8.answer", model=gpt2["name"], mings=f"{mings:,.0f}"))


ASKERS = {1: records, 2: courses, 3: assembly_line, 4: scorecard, 5: tracing, 6: training, 7: graduation,
          8: michelin}
