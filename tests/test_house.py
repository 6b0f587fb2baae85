"""The house: every bad input is one clear line (exit 2), and no work is ever lost.

Each test is a case a new user met: a diverging run, an output that cannot be written,
a NaN option, a resumed run with other plans, two runs at once, a full disk.
"""

import json
import os
import subprocess
import sys

import pytest

from omakase import checkpoint as ckpt_io
from omakase import inference
from omakase.checkpoint import Checkpoint
from omakase.cli import main
from omakase.config import GPTConfig, init_params
from test_cli import fails_cleanly, run_ok

TINY = ["--engine", "numpy", "--samples", "0"]


@pytest.fixture
def tiny_ckpt(in_tmp, tiny_data, capsys):
    run_ok(capsys, "train", "--data", str(tiny_data), *TINY, "--steps", "10", "--out", "tiny.json")
    return in_tmp / "tiny.json"


def test_a_diverging_run_stops_and_keeps_the_last_finite_state(in_tmp, capsys):
    err = fails_cleanly(capsys, "train", "--lr", "0.5", "--steps", "30", *TINY, "--out", "d.json", "--log", "d.jsonl",
                        words="diverged")
    assert "smaller learning rate" in err and "d.json holds step" in err
    saved = ckpt_io.load(in_tmp / "d.json")  # loads: every dial is finite
    step = saved.run["step"]
    assert 0 < step < 30 and len(saved.run["losses"]) == step
    lines = (in_tmp / "d.jsonl").read_text().splitlines()
    assert len(lines) == step and all(json.loads(line)["loss"] is not None for line in lines)
    assert "NaN" not in (in_tmp / "d.jsonl").read_text() and "Infinity" not in (in_tmp / "d.jsonl").read_text()
    run_ok(capsys, "cook", "-c", "d.json", "--n", "2")  # and the kept state still cooks


def test_outputs_that_cannot_be_written_are_refused_before_training(in_tmp, tiny_data, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere: permissions cannot be tested as root")
    locked = in_tmp / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for flag in ("--out", "--log"):
            fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, flag, str(locked / "x"),
                          words="no permission")
    finally:
        locked.chmod(0o700)


def test_permission_checks_come_before_training_even_as_root(in_tmp, tiny_data, capsys, monkeypatch):
    from omakase.cli import common

    monkeypatch.setattr(common.os, "access", lambda path, mode: not mode & os.W_OK)  # as read-only places answer
    for flag in ("--out", "--log"):
        fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, flag, "x.json", words="no permission")
    (in_tmp / "ro.json").write_text("{}")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, "--out", "ro.json", "--force", words="read-only")


def test_a_folder_that_refuses_new_files_is_found_before_any_work(in_tmp, tiny_data, capsys, monkeypatch):
    """Permissions can say yes where the file system says no (root, read-only mounts): a real file is tried."""
    from omakase.cli import common

    def refuses(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(common.tempfile, "TemporaryFile", refuses)
    fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, "--out", "x.json", words="Read-only file system")
    fails_cleanly(capsys, "tour", "--html", "t.html", words="refuses new files")
    assert not (in_tmp / "runs").exists()


def test_a_write_that_fails_late_is_one_line(in_tmp, capsys, monkeypatch):
    def vanished(*args, **kwargs):  # the file went away between the checks and the read
        raise FileNotFoundError(2, "No such file or directory", "gone/x.json")

    monkeypatch.setattr(ckpt_io, "load", vanished)
    (in_tmp / "x.json").write_text("{}")  # there when the command checks it
    assert main(["info", "-c", "x.json"]) == 1
    assert capsys.readouterr().err.strip() == "omakase: error: could not read or write gone/x.json: No such file or directory"


def test_outputs_under_a_file_are_refused_before_training(in_tmp, tiny_data, capsys):
    (in_tmp / "afile").write_text("")
    for flag in ("--out", "--log"):
        fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, flag, "afile/x.json", words="is a file")
    assert not (in_tmp / "runs").exists()  # nothing was trained, no run number taken


def test_a_full_disk_loses_nothing(in_tmp, tiny_data, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "cache"))
    real_save = ckpt_io.save

    def full_disk(ckpt, path):
        if "rescue" not in str(path):
            raise OSError(28, "No space left on device")
        real_save(ckpt, path)

    monkeypatch.setattr(ckpt_io, "save", full_disk)
    err = fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, "--steps", "6", "--out", "f.json",
                        words="No space left on device")
    rescued = list((in_tmp / "cache" / "omakase" / "rescue").glob("f-*.json"))
    assert len(rescued) == 1 and str(rescued[0]) in err
    assert ckpt_io.load(rescued[0]).run["step"] == 6


@pytest.mark.parametrize("flag", ["--temperature", "--lr"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_float_options_refuse_nan_and_infinity(in_tmp, tiny_data, capsys, flag, value):
    fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, flag, value, words=flag)


def test_cook_refuses_nan_temperature(tiny_ckpt, capsys):
    fails_cleanly(capsys, "cook", "-c", str(tiny_ckpt), "--temperature", "nan", words="--temperature")


def test_impossible_plans_are_refused_before_anything_is_allocated(in_tmp, tiny_data, capsys):
    fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, "--block-size", "65536", words="GiB")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, "--eval-every", "-1", words="--eval-every")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), *TINY, "--steps", "10", "--keep-at", "5,20",
                  words="--keep-at")
    assert not (in_tmp / "runs").exists()


def test_keep_at_files_obey_force(in_tmp, tiny_data, capsys):
    args = ["train", "--data", str(tiny_data), *TINY, "--steps", "6", "--keep-at", "3", "--out", "k.json"]
    run_ok(capsys, *args)
    assert (in_tmp / "k-step3.json").is_file()
    (in_tmp / "k.json").unlink()
    fails_cleanly(capsys, *args, words="k-step3.json")  # the kept snapshot is not overwritten silently
    run_ok(capsys, *args, "--force")


def test_two_runs_started_together_take_different_numbers(in_tmp, tiny_data):
    command = [sys.executable, "-c", "from omakase.cli import run; run()", "train", "--data", str(tiny_data),
               *TINY, "--steps", "3"]
    procs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert sorted(p.name for p in (in_tmp / "runs").iterdir()) == ["ming-001.json", "ming-002.json"]


@pytest.mark.parametrize("flag", [["--steps", "20"], ["--seed", "1"], ["--preset", "bigger"], ["--lr", "0.1"],
                                  ["--n-embd", "32"], ["--batch-size", "2"], ["--warmup", "1"]])
def test_resume_refuses_flags_that_would_change_the_plan(tiny_data, in_tmp, capsys, flag):
    run_ok(capsys, "train", "--data", str(tiny_data), *TINY, "--steps", "10", "--pause-at", "5", "--out", "p.json")
    fails_cleanly(capsys, "train", "--resume", "p.json", *flag, words=f"{flag[0]} cannot change on --resume")


def test_resume_without_data_uses_the_data_the_checkpoint_records(tiny_data, in_tmp, capsys):
    run_ok(capsys, "train", "--data", str(tiny_data), *TINY, "--steps", "10", "--pause-at", "5", "--out", "p.json")
    run_ok(capsys, "train", "--resume", "p.json")
    assert json.loads((in_tmp / "p-001.json").read_text())["run"]["step"] == 10  # the next name beside it
    assert json.loads((in_tmp / "p.json").read_text())["run"]["step"] == 5  # the paused checkpoint, kept


def test_a_preset_warmup_is_scaled_to_a_short_plan(in_tmp, tiny_data, capsys):
    from omakase.config import settings_for

    chosen, notes = settings_for("bigger", steps=50)
    assert chosen["warmup"] == 2 and chosen["steps"] == 50
    assert notes == ["warmup scaled to 2 steps for a 50-step plan (the bigger preset warms up 100 of 3,000)"]
    assert settings_for("bigger")[0]["warmup"] == 100 and settings_for("bigger")[1] == []
    out = run_ok(capsys, "train", "--data", str(tiny_data), "--preset", "bigger", "--steps", "50", "--dry-run")
    assert "note: warmup scaled to 2 steps" in out and not (in_tmp / "runs").exists()


def test_cook_checks_the_records_of_the_data_it_is_given(tiny_ckpt, tiny_data, capsys):
    names = json.loads(run_ok(capsys, "cook", "-c", str(tiny_ckpt), "--n", "6", "--seed", "1", "--json"))
    other = tiny_data.with_name("other.txt")
    other.write_text("\n".join(n["name"] for n in names) + "\n")
    again = json.loads(run_ok(capsys, "cook", "-c", str(tiny_ckpt), "--n", "6", "--seed", "1", "--json",
                              "--data", str(other)))
    assert [n["name"] for n in again] == [n["name"] for n in names]
    assert {n["kind"] for n in again if n["name"]} == {"from the records"}  # every name is in the file given


def test_any_valid_checkpoint_cooks_scores_and_evaluates(in_tmp, capsys):
    """A checkpoint with no resumable run (no order, no random state) still works everywhere."""
    config = GPTConfig(vocab_size=27)
    bare = Checkpoint(config, "abcdefghijklmnopqrstuvwxyz", init_params(config, __import__("random").Random(0)),
                      run={"seed": 42, "data": {"name": "names.txt",
                                                "sha256": inference.data_io.KNOWN["names"].sha256}})
    ckpt_io.save(bare, in_tmp / "bare.json")
    assert len(json.loads(run_ok(capsys, "cook", "-c", "bare.json", "--n", "3", "--json"))) == 3
    run_ok(capsys, "score", "emma", "-c", "bare.json")
    result = json.loads(run_ok(capsys, "eval", "-c", "bare.json", "--json"))
    assert result["documents"] == 3203  # the held-out tenth of names.txt, rebuilt from the seed


def test_the_held_out_loss_during_training_says_how_many_documents(in_tmp, capsys):
    for engine in ("scalar", "numpy"):
        out = run_ok(capsys, "train", "--engine", engine, "--steps", "2", "--samples", "0", "--val-docs", "20",
                     "--out", f"{engine}.json")
        assert "on 20 held-out documents" in out
    losses = [json.loads((in_tmp / f"{e}.json").read_text())["run"]["val"][-1] for e in ("scalar", "numpy")]
    assert losses[0]["n_docs"] == losses[1]["n_docs"] == 20
    assert losses[0]["loss"] == pytest.approx(losses[1]["loss"], abs=1e-10)  # the same names, whatever the engine


def test_the_bare_command_prints_help_and_the_version_prints(capsys):
    assert main([]) == 0
    out = capsys.readouterr()
    assert "Usage" in out.out and out.err == ""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("omakase ")


def test_an_empty_name_is_shown_visibly(tiny_ckpt, capsys, monkeypatch):
    monkeypatch.setattr(inference, "cook_names", lambda *a, **k: ["", "ana"])
    out = run_ok(capsys, "cook", "-c", str(tiny_ckpt), "--n", "2")
    assert "(empty)" in out


def test_grammar_counts_one_layer(tiny_ckpt, capsys):
    out = " ".join(run_ok(capsys, "info", "-c", str(tiny_ckpt)).split())  # the console wraps where the path ends
    assert "1 layer," in out


def test_a_value_that_starts_with_a_dash_is_named_when_it_reads_as_options(capsys):
    """The parser reads "-inf" as the options -i, -n, -f (the fuzzer found it in `omakase lab search -inf`):
    the one line names the word it came from and how to pass it, not only "No such option: -i"."""
    err = fails_cleanly(capsys, "cook", "-inf", words="No such option: -i")
    assert "'-inf'" in err and "-- -inf" in err
    err = fails_cleanly(capsys, "cook", "-c", "x", "-n", "5", words="No such option: -n")  # a real unknown option
    assert "read from" not in err
