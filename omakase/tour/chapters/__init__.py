"""The tour's chapters, in the order they are told: one module per chapter.

Each chapter module holds everything about its chapter:

    measure(kitchen) -> data   its live numbers, as plain data (no words)
    tell(data, t) -> blocks    the catalogue's sentences woven around them, its question among them
    question(data, t)          its predict-then-reveal question and the answer, computed from the data
    FIGURES                    its figure functions, each (data, words) -> (matplotlib Figure, CSV rows)

Adding a chapter is adding one module, its sentences in catalogue/*.json
("ch<N>.title", "ch<N>.summary", ...) and one line in CHAPTERS; chapter N is CHAPTERS[N - 1].
"""

from __future__ import annotations

from ..kitchen import Kitchen, open_kitchen  # noqa: F401  (what measuring starts from)
from . import (ch1_records, ch2_courses, ch3_assembly_line, ch4_scorecard, ch5_tracing, ch6_training,
               ch7_graduation, ch8_michelin)

CHAPTERS = [ch1_records, ch2_courses, ch3_assembly_line, ch4_scorecard, ch5_tracing, ch6_training, ch7_graduation,
            ch8_michelin]


def measure(k: Kitchen, numbers: list[int]) -> dict[int, dict]:
    """The data of the chapters asked for, by chapter number."""
    return {n: CHAPTERS[n - 1].measure(k) for n in numbers}
