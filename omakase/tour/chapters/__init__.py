"""The tour's chapters, in the order they are told: one module per chapter.

Each chapter module holds everything about its chapter:

    measure(kitchen) -> data   its live numbers, as plain data (no words); the second half's chapters
                               (9-15) measure(run): read from an assistant build (second_half.AssistantRun)
    tell(data, t) -> blocks    the catalogue's sentences woven around them, its question among them
    question(data, t)          its predict-then-reveal question and the answer, computed from the data
    FIGURES                    its figure functions, each (data, words) -> (matplotlib Figure, CSV rows)

Adding a chapter is adding one module, its sentences in catalogue/*.json
("ch<N>.title", "ch<N>.summary", ...; the second half's in catalogue/<lang>-part2.json) and one line in
FIRST_HALF or SECOND_HALF; chapter N is CHAPTERS[N - 1].
"""

from __future__ import annotations

from ..live_model import Kitchen, open_kitchen  # noqa: F401  (what measuring starts from)
from ..story import Catalogue, Chapter, Summary
from ..second_half import AssistantRun
from . import (ch1_records, ch2_courses, ch3_assembly_line, ch4_scorecard, ch5_tracing, ch6_training,
               ch7_graduation, ch8_michelin)
from . import (ch9_word_pieces, ch10_internet, ch11_chat_menu, ch12_tools, ch13_thinking, ch14_practice,
               ch15_service)

# The first half is measured on Ming (a Kitchen); the second half is read from an assistant build (AssistantRun)
FIRST_HALF = [ch1_records, ch2_courses, ch3_assembly_line, ch4_scorecard, ch5_tracing, ch6_training, ch7_graduation,
              ch8_michelin]
SECOND_HALF = [ch9_word_pieces, ch10_internet, ch11_chat_menu, ch12_tools, ch13_thinking, ch14_practice,
               ch15_service]
CHAPTERS = FIRST_HALF + SECOND_HALF
PARTS = {1: range(1, len(FIRST_HALF) + 1), 2: range(len(FIRST_HALF) + 1, len(CHAPTERS) + 1)}


def measure(k: Kitchen, numbers: list[int]) -> dict[int, dict]:
    """The data of the first half's chapters asked for, by chapter number."""
    return {n: CHAPTERS[n - 1].measure(k) for n in numbers}


def measure_one(number: int, k: Kitchen | None, run: AssistantRun | None) -> dict:
    """Chapter `number`'s data: measured on Ming (the first half) or read from the assistant run (the second)."""
    return CHAPTERS[number - 1].measure(k if number in PARTS[1] else run)


def tell(number: int, data: dict, t: Catalogue) -> Chapter:
    """Chapter `number` told from its data: its title, its blocks (its question among them) and its summary
    (a chapter whose one line depends on what its run showed names the line's key: summary_key(data))."""
    chapter = CHAPTERS[number - 1]
    key = chapter.summary_key(data) if hasattr(chapter, "summary_key") else f"ch{number}.summary"
    blocks = chapter.tell(data, t) + [Summary(t(key))]
    return Chapter(number, t(f"ch{number}.title"), blocks)
