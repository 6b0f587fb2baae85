"""`omakase service` as a user meets it: a report per run, one line for every bad input."""

import csv
import json

import pytest

from omakase.cli import main


def fails_cleanly(capsys, *argv, words=""):
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and words in err, err


def test_one_hack_writes_its_table_data_and_figure(target_ckpt, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["service", "kv", "-c", str(target_ckpt), "--repeats", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "KV cache" in printed and "identical" in printed
    for name in ("report.md", "kv.csv", "kv.json", "kv.png", "all.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "kv.json").read_text())["rows"][0][0] == 1
    fails_cleanly(capsys, "service", "kv", "-c", str(target_ckpt), "--out", str(out), words="--force")


def test_json_prints_only_the_measurements_and_they_are_the_saved_ones(target_ckpt, tmp_path, capsys):
    out = tmp_path / "r"
    code = main(["service", "batch", "-c", str(target_ckpt), "--repeats", "1", "--json", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    [measured] = json.loads(printed)  # stdout is one JSON document: progress and paths go to stderr
    assert measured == json.loads((out / "batch.json").read_text())
    with open(out / "batch.csv", newline="") as f:
        saved = list(csv.reader(f))
    assert saved == [measured["columns"]] + [[str(v) for v in row] for row in measured["rows"]]


def test_bad_inputs_get_one_line(target_ckpt, tmp_path, capsys):
    fails_cleanly(capsys, "service", "cache", "-c", str(target_ckpt), words="unknown hack")
    fails_cleanly(capsys, "service", "kv", "-c", str(tmp_path / "none.json"), words="no such file")
    fails_cleanly(capsys, "service", "kv", "-c", str(target_ckpt), "--repeats", "0", words="--repeats")
    fails_cleanly(capsys, "service", "speculate", "-c", str(target_ckpt), "--out", str(tmp_path / "s"),
                  words="--draft")
    fails_cleanly(capsys, "service", "kv", "-c", str(target_ckpt), "--out", "/proc/report", words="/proc")


@pytest.mark.slow
def test_all_runs_every_hack_into_one_report(target_ckpt, tmp_path, capsys):
    """`service all` with no draft trains one; without the extra's ONNX it would skip that hack with a line."""
    out = tmp_path / "all"
    assert main(["service", "all", "-c", str(target_ckpt), "--repeats", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "trained a draft" in printed and (out / "draft.json").is_file()
    hacks = [m["hack"] for m in json.loads((out / "all.json").read_text())]
    assert hacks == ["memory", "kv", "batch", "quantize", "prune", "onnx", "speculate", "drafts", "drift"]
    assert (out / "reopened.json").is_file()
    report = (out / "report.md").read_text()
    assert report.count("\n## ") == len(hacks) - 1 and "reopens with reopened.json" in report
