"""Jagged intelligence, the tokenizer's part: the build makes sft-short again with every digit a token of its
own and asks it the same held-out comparisons (build.digits_experiment).

    results = build.digits_experiment("cpu", Path("runs/a/digits"), seed=0, beside=bpe)
    results["comparisons"]["by_kind"]["same whole, trap"]   # 9.11 vs 9.9, digits one per token
"""

import json

import pytest

pytest.importorskip("torch")

from omakase.assistant.measure import build as building  # noqa: E402
from omakase.assistant.measure import scorecard  # noqa: E402
from omakase.assistant.measure.build_report import jsonable, rates  # noqa: E402
from omakase.assistant.skills import thinking  # noqa: E402
from omakase.bpe import BPE  # noqa: E402

from test_resume import TINY  # noqa: E402


def test_the_digits_pipeline_cuts_every_digit_apart_and_asks_the_same_comparisons(tmp_path, monkeypatch):
    monkeypatch.setitem(building.PRESETS, "tiny", TINY)
    out = tmp_path / "digits"
    d = building.digits_experiment("tiny", out, seed=0, say=lambda *a: None)
    assert d["tokenizer"]["split_digits"] is True
    assert d["cuts"] == {"digits": [[" ", "9", ".", "1", "1"], [" ", "9", ".", "9"]]}  # no `beside` tokenizer given
    # its own tokenizer, base and sft-short are kept, and no piece holds two digits
    bpe = BPE.load(out / "tokenizer.json")
    assert all(sum(c.isdigit() for c in bpe.piece(t).decode("utf-8", "replace")) <= 1 for t in range(bpe.vocab_size))
    for stage in ("base", "sft-short"):
        assert (out / stage / "model.json").is_file()
    # the held-out comparisons, capped as the preset caps every measured set; none too long for the block
    assert d["dropped"] == {"train": 0, "held_out": 0}
    assert d["comparisons"]["all"].n == TINY.max_questions
    # the scorecard shows its rates beside the BPE model's, and judges only the BPE model's
    by_kind = {k: d["comparisons"]["by_kind"][k] for k in thinking.COMPARE_KINDS}
    r = rates(json.loads(json.dumps(jsonable({"thinking": {"sft-short": {"comparisons": {"by_kind": by_kind}}},
                                              "digits": d}))))
    row = scorecard.misleading_pieces(r)
    assert [label for label, _ in row.measured][2:] == ["the same, digits one per token: pieces do not mislead",
                                                         "the same, digits one per token: pieces mislead"]
    assert row.appears == scorecard.apart(by_kind["same whole, no trap"], by_kind["same whole, trap"])
