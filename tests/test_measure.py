"""Honest numbers from the command line: eval, baseline, bench, and engines that agree."""

import json
import math

import pytest

from omakase.cli import main
from test_cli import fails_cleanly, run_ok


@pytest.fixture
def tiny_ckpt(in_tmp, tiny_data, capsys):
    run_ok(capsys, "train", "--data", str(tiny_data), "--engine", "numpy", "--steps", "30", "--samples", "0",
           "--out", "tiny.json")
    return in_tmp / "tiny.json"


def test_checkpoints_are_interchangeable_between_engines(in_tmp, tiny_data, capsys):
    for engine in ("scalar", "numpy"):
        run_ok(capsys, "train", "--data", str(tiny_data), "--engine", engine, "--steps", "12", "--samples", "0",
               "--out", f"{engine}.json")
    trained = {e: json.loads((in_tmp / f"{e}.json").read_text())["run"]["losses"] for e in ("scalar", "numpy")}
    assert trained["scalar"] == pytest.approx(trained["numpy"], abs=1e-10)
    for ckpt in ("scalar.json", "numpy.json"):
        cooked = [run_ok(capsys, "cook", "-c", ckpt, "--n", "8", "--seed", "3", "--json", "--engine", e)
                  for e in ("scalar", "numpy")]
        assert cooked[0] == cooked[1]
        scored = [json.loads(run_ok(capsys, "score", "ana", "-c", ckpt, "--json", "--engine", e))
                  for e in ("scalar", "numpy")]
        assert scored[0][0]["mean_loss"] == pytest.approx(scored[1][0]["mean_loss"], abs=1e-12)


def test_eval_on_the_held_out_split_and_on_a_file(tiny_ckpt, tiny_data, capsys):
    val = json.loads(run_ok(capsys, "eval", "-c", str(tiny_ckpt), "--json"))
    assert val["documents"] == 2  # 24 names: the last 10% (2) are held out
    same = json.loads(run_ok(capsys, "eval", "-c", str(tiny_ckpt), "--data", str(tiny_data), "--json"))
    assert same["loss"] == val["loss"]  # --data FILE is split as the run split its own data
    longer = tiny_data.with_name("longer.txt")
    longer.write_text(tiny_data.read_text() * 2)
    doubled = json.loads(run_ok(capsys, "eval", "-c", str(tiny_ckpt), "--data", str(longer), "--json"))
    assert doubled["documents"] == 4 and 0 < doubled["loss"] < 10  # the held-out tenth of 48 documents
    scalar = json.loads(run_ok(capsys, "eval", "-c", str(tiny_ckpt), "--json", "--engine", "scalar"))
    assert scalar["loss"] == pytest.approx(val["loss"], abs=1e-10)


def test_baseline_on_names(capsys):
    losses = json.loads(run_ok(capsys, "baseline", "--json"))
    assert losses["uniform"] == math.log(27)
    assert losses["uniform"] > losses["unigram"] > losses["bigram"]


def test_bad_measuring_inputs(tiny_ckpt, tiny_data, capsys):
    other = tiny_data.with_name("other.txt")
    other.write_text("ZEBRA\n" * 20)
    fails_cleanly(capsys, "eval", "-c", str(tiny_ckpt), "--data", str(other), words="vocabulary")
    fails_cleanly(capsys, "eval", "-c", str(tiny_ckpt), "--engine", "abacus", words="--engine")
    fails_cleanly(capsys, "eval", "-c", str(tiny_ckpt), "--split", "test", words="--split")
    fails_cleanly(capsys, "bench", "--repeats", "0", words="--repeats")
    other.with_name("one.txt").write_text("ZEBRA\n")
    fails_cleanly(capsys, "baseline", "--data", str(other.with_name("one.txt")), words="too few")
    fails_cleanly(capsys, "train", "--preset", "huge", words="--preset")
    assert main(["bench", "--help"]) == 0
