"""The command line as a user meets it: training, pausing, resuming, cooking, and every bad input."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error

import pytest

from omakase import data
from omakase.cli import main


def run_ok(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def fails_cleanly(capsys, *argv, words=""):
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and words in err
    return err


def samples(out):
    return [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("sample ")]


@pytest.mark.slow
def test_reference_run_paused_at_500_equals_a_straight_run(in_tmp, capsys):
    straight = run_ok(capsys, "train", "--engine", "numpy", "--out", "a.json", "--log", "a.jsonl")
    run_ok(capsys, "train", "--engine", "scalar", "--out", "b.json", "--log", "b.jsonl", "--pause-at", "500")
    resumed = run_ok(capsys, "train", "--resume", "b.json", "--engine", "numpy", "--log", "b.jsonl")
    losses = [[f"{json.loads(line)['loss']:.4f}" for line in (in_tmp / f).read_text().splitlines()]
              for f in ("a.jsonl", "b.jsonl")]
    assert losses[0] == losses[1] and len(losses[0]) == 1000
    assert samples(straight) == samples(resumed) and len(samples(straight)) == 20


@pytest.fixture
def tiny_ckpt(in_tmp, tiny_data, capsys):
    run_ok(capsys, "train", "--data", str(tiny_data), "--engine", "scalar", "--steps", "5", "--samples", "0",
           "--out", "tiny.json")
    return in_tmp / "tiny.json"


@pytest.mark.parametrize("engine", ["scalar", "numpy"])
def test_paused_and_resumed_equals_a_straight_run(in_tmp, tiny_data, capsys, engine):
    common = ["--data", str(tiny_data), "--engine", engine, "--steps", "24", "--samples", "5"]
    straight = run_ok(capsys, "train", *common, "--out", "a.json", "--log", "a.jsonl")
    run_ok(capsys, "train", *common, "--out", "b.json", "--log", "b.jsonl", "--pause-at", "12")
    assert json.loads((in_tmp / "b.json").read_text())["run"]["step"] == 12
    resumed = run_ok(capsys, "train", "--resume", "b.json", "--data", str(tiny_data), "--engine", engine,
                     "--samples", "5", "--log", "b.jsonl")
    assert (in_tmp / "a.jsonl").read_text() == (in_tmp / "b.jsonl").read_text()
    assert len((in_tmp / "a.jsonl").read_text().splitlines()) == 24
    assert samples(straight) == samples(resumed) and len(samples(straight)) == 5


def test_cook_score_and_info(tiny_ckpt, capsys):
    names = json.loads(run_ok(capsys, "cook", "-c", str(tiny_ckpt), "--n", "4", "--json", "--engine", "scalar"))
    assert len(names) == 4 and {n["kind"] for n in names} <= {"from the records", "invented"}
    greedy = [run_ok(capsys, "cook", "-c", str(tiny_ckpt), "--temperature", "0", "--seed", str(s), "--json")
              for s in (1, 2)]
    assert greedy[0] == greedy[1]  # temperature 0: the same menu every time
    prefixed = json.loads(run_ok(capsys, "cook", "-c", str(tiny_ckpt), "--prefix", "ca", "--n", "3", "--json"))
    assert all(n["name"].startswith("ca") for n in prefixed)
    scores = json.loads(run_ok(capsys, "score", "ana", "naa", "-c", str(tiny_ckpt), "--json"))
    assert [len(s["courses"]) for s in scores] == [4, 4]
    assert all(0 < c["p"] < 1 for s in scores for c in s["courses"])
    assert "5 of 5 planned steps" in " ".join(run_ok(capsys, "info", "-c", str(tiny_ckpt)).split())


def test_cook_and_score_default_to_the_newest_run(tiny_ckpt, capsys):
    (tiny_ckpt.parent / "runs").mkdir()
    tiny_ckpt.rename(tiny_ckpt.parent / "runs" / "ming-001.json")
    assert "'ana'" in run_ok(capsys, "score", "ana")


def test_no_data_offline(in_tmp, monkeypatch, capsys):
    monkeypatch.delenv("OMAKASE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp))

    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    fails_cleanly(capsys, "train", "--data", "shakespeare", words="could not download tinyshakespeare.txt")


def test_bad_inputs_are_one_clear_line(tiny_ckpt, tiny_data, capsys):
    fails_cleanly(capsys, "score", "josé", "-c", str(tiny_ckpt), words="'é'")
    fails_cleanly(capsys, "cook", "-c", str(tiny_ckpt), "--prefix", "Z", words="'Z'")
    fails_cleanly(capsys, "cook", "-c", str(tiny_ckpt), "--temperature", "-1", words="temperature")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--n-embd", "10", "--n-head", "4", words="divisible")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--out", str(tiny_ckpt), words="--force")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--engine", "abacus", words="unknown engine")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--batch-size", "0", words="batch size")
    fails_cleanly(capsys, "train", "--bogus-option", words="bogus")
    fails_cleanly(capsys, "info", "-c", "missing.json", words="does not exist")
    broken = tiny_ckpt.with_name("broken.json")
    broken.write_text(tiny_ckpt.read_text()[:100])
    fails_cleanly(capsys, "info", "-c", str(broken), words="corrupt or truncated")
    latin1 = tiny_data.with_name("latin1.txt")
    latin1.write_bytes("ana\njosé\n".encode("latin-1"))
    fails_cleanly(capsys, "train", "--data", str(latin1), words="line 2")
    empty = tiny_data.with_name("empty.txt")
    empty.write_text("\n\n")
    fails_cleanly(capsys, "train", "--data", str(empty), words="no documents")


def test_ctrl_c_finishes_the_step_writes_the_checkpoint_and_says_how_to_resume(in_tmp, tiny_data):
    command = [sys.executable, "-c", "from omakase.cli import run; run()", "train", "--data", str(tiny_data),
               "--engine", "scalar", "--steps", "100000", "--out", "c.json"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()  # "Ming: ..." is printed just before training starts
    time.sleep(1)  # a few steps
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    out = first + out
    assert proc.returncode == 130, err  # the shell convention for Ctrl-C
    assert "interrupted after step" in out and "omakase train --resume c.json" in out
    saved = json.loads((in_tmp / "c.json").read_text())["run"]
    assert 0 < saved["step"] < 100000 and len(saved["losses"]) == saved["step"]


def test_a_finished_run_is_not_resumed(tiny_ckpt, tiny_data, capsys):
    fails_cleanly(capsys, "train", "--resume", str(tiny_ckpt), "--data", str(tiny_data), words="already complete")


def test_resume_refuses_other_data(tiny_ckpt, capsys, names_path):
    fails_cleanly(capsys, "train", "--resume", str(tiny_ckpt), "--data", str(names_path), words="sha256")
