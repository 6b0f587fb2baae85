"""The scorecard judges each effect by its fixed rule: the target reached AND the intervals apart.

    rows(results) -> [Row(group, effect, measured, target, appears)]
"""

import json
from pathlib import Path

from omakase.assistant.measure import scorecard
from omakase.assistant.measure.build_report import jsonable, rates
from omakase.assistant.measure.evaluate import Rate


def r(share: float, low: float | None = None, high: float | None = None, n: int = 200) -> Rate:
    return Rate(share, share if low is None else low, share if high is None else high, n)


def results(calc: Rate, plain: Rate) -> dict:
    """Just the tools experiment's bills (the other experiments' rates missing: their rows are left out)."""
    return {"tools": {"bills": {"sft-tools": calc, "sft": plain}}}


def test_an_effect_appears_only_when_the_target_is_reached_and_the_intervals_are_apart():
    shown = scorecard.rows(results(r(0.85, 0.80, 0.90), r(0.10, 0.05, 0.15)))
    assert [row.appears for row in shown] == [True]
    assert shown[0].measured[0] == ("with the calculator (sft-tools)", r(0.85, 0.80, 0.90))
    # the same gap with intervals that overlap is not an effect
    assert not scorecard.rows(results(r(0.85, 0.60, 0.95), r(0.40, 0.20, 0.62)))[0].appears
    # apart, but short of the target
    assert not scorecard.rows(results(r(0.70, 0.65, 0.75), r(0.10, 0.05, 0.15)))[0].appears


def test_a_report_read_back_from_json_is_judged_as_the_build_judged_it():
    made = {"format": {"base": r(0.0), "sft": r(1.0)}, "harmful": {"base": r(0.0), "sft": r(0.8, 0.7, 0.9)},
            "knowledge": {"sft": {"by_seen": {1: r(0.03, 0.0, 0.06), 30: r(0.27, 0.2, 0.34)}}},
            "identity": {"Ming": {"Ming": r(0.9, 0.85, 0.95), "Hana": r(0.0)},
                         "Hana": {"Ming": r(0.0), "Hana": r(0.9, 0.85, 0.95)}},
            "hallucination": {"sft": {"refused": r(0.0)}, "sft-idk": {"refused": r(0.28, 0.2, 0.36)}}}
    built = scorecard.rows(made)  # int keys, as build returns them
    read = scorecard.rows(rates(json.loads(json.dumps(jsonable(made)))))  # str keys, as report.json holds them
    assert [row.appears for row in built] == [row.appears for row in read] == [True] * 5


def test_the_shipped_run_is_judged_row_by_row():
    shipped = Path(__file__).parents[2] / "docs" / "assistant" / "report.json"
    found = scorecard.rows(rates(json.loads(shipped.read_text())))
    assert {row.group for row in found} >= {"tools", "working memory", "tokens to think", "critics", "kept"}
    by_effect = {row.effect: row for row in found}
    assert by_effect["SFT teaches the assistant's format"].appears


def test_the_report_opens_with_the_scorecard(tmp_path):
    from omakase.assistant.measure import build_report
    from omakase.report_folder import Report

    shipped = Path(__file__).parents[2] / "docs" / "assistant" / "report.json"
    results = rates(json.loads(shipped.read_text()))
    command = results.pop("command")
    build_report.write(results, Report(tmp_path), command)
    text = (tmp_path / "report.md").read_text()
    shown = scorecard.rows(results)
    assert f"{sum(row.appears for row in shown)} of the {len(shown)} effects below appear" in text
    assert text.index("## What this build shows") < text.index("## 1. The kitchen's internet")
