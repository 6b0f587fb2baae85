"""The command line as a user meets it: training, pausing, resuming, cooking, and every bad input."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

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
    run_ok(capsys, "train", "--engine", "numpy", "--out", "b.json", "--log", "b.jsonl", "--pause-at", "500")
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
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--engine", "abacus", words="--engine")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--batch-size", "0", words="--batch-size")
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


# Nothing is lost or overwritten: full disks, a second run given the same output, resumes, failures.

def test_a_full_disk_while_logging_stops_with_a_checkpoint_and_rescues_the_log(in_tmp, tiny_data, capsys,
                                                                               monkeypatch):
    from omakase.cli import train as train_cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "cache"))
    real_write, writes = train_cli.os.write, []

    def full_after_5_lines(fd, blob):  # the log's sixth line finds the disk full after half a line
        writes.append(blob)
        if len(writes) < 6:
            return real_write(fd, blob)
        if len(writes) == 6:
            return real_write(fd, blob[: len(blob) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train_cli.os, "write", full_after_5_lines)
    err = fails_cleanly(capsys, "train", "--data", str(tiny_data), "--steps", "20", "--samples", "0",
                        "--out", "c.json", "--log", "c.jsonl", words="could not write the log c.jsonl")
    lines = (in_tmp / "c.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5]  # whole lines only
    saved = json.loads((in_tmp / "c.json").read_text())["run"]
    assert saved["step"] == 6 and len(saved["losses"]) == 6  # training stopped after the step it could not log
    rescued = list((in_tmp / "cache" / "omakase" / "rescue").glob("c-*.jsonl"))
    assert len(rescued) == 1 and json.loads(rescued[0].read_text())["step"] == 6
    assert "omakase train --resume c.json --log c.jsonl" in err


def test_a_failed_checkpoint_write_of_a_finished_run_says_how_to_use_the_rescue(in_tmp, tiny_data, capsys,
                                                                                monkeypatch):
    from omakase import checkpoint as ckpt_io

    monkeypatch.setenv("XDG_CACHE_HOME", str(in_tmp / "cache"))
    real_save = ckpt_io.save

    def disk_full_for_out(ckpt, path):
        if Path(path).name == "c.json":
            raise OSError(28, "No space left on device")
        real_save(ckpt, path)

    monkeypatch.setattr(ckpt_io, "save", disk_full_for_out)
    err = fails_cleanly(capsys, "train", "--data", str(tiny_data), "--steps", "3", "--samples", "0",
                        "--out", "c.json", words="saved to")
    assert "omakase cook -c" in err and "--resume" not in err  # a finished run is not resumed


def test_an_output_is_reserved_before_work_and_released_if_the_run_fails(in_tmp, tiny_data, capsys):
    from omakase import files

    assert files.claim(in_tmp / "x.json") and not files.claim(in_tmp / "x.json")  # exclusive: one run has it
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--out", "x.json", words="reserved by another run")
    fails_cleanly(capsys, "info", "-c", "x.json", words="holds no checkpoint yet")
    (in_tmp / "x.json").write_text(json.dumps({"format": files.PLACEHOLDER, "pid": 2**22 + 1,
                                               "host": files.socket.gethostname()}))
    assert files.claim(in_tmp / "x.json")  # a killed run's placeholder (no such process) is taken over
    (in_tmp / "runs").mkdir()
    (in_tmp / "runs" / "ming-001-step2.json").write_text("{}")
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--steps", "3", "--keep-at", "2", words="--force")
    assert not (in_tmp / "runs" / "ming-001.json").exists()  # no empty checkpoint is left behind


def test_resume_keeps_the_paused_checkpoint_and_writes_the_next_name(in_tmp, tiny_data, capsys):
    common = ["--data", str(tiny_data), "--engine", "numpy", "--samples", "0"]
    run_ok(capsys, "train", *common, "--steps", "8", "--pause-at", "4", "--out", "b.json")
    paused = (in_tmp / "b.json").read_bytes()
    out = run_ok(capsys, "train", "--resume", "b.json", "--data", str(tiny_data), "--samples", "0")
    assert "checkpoint: b-001.json" in out
    assert (in_tmp / "b.json").read_bytes() == paused  # nothing overwritten
    assert json.loads((in_tmp / "b-001.json").read_text())["run"]["step"] == 8
    fails_cleanly(capsys, "train", "--resume", "b.json", "--out", "b.json", "--data", str(tiny_data),
                  words="--force")
    run_ok(capsys, "train", "--resume", "b.json", "--out", "b.json", "--force", "--data", str(tiny_data),
           "--samples", "0")
    assert json.loads((in_tmp / "b.json").read_text())["run"]["step"] == 8


def test_resume_goes_on_with_the_engine_and_options_the_checkpoint_records(in_tmp, tiny_data, capsys):
    pytest.importorskip("torch")
    common = ["--data", str(tiny_data), "--samples", "0"]
    run_ok(capsys, "train", *common, "--engine", "torch", "--dtype", "float32", "--dropout", "0.1",
           "--steps", "6", "--pause-at", "3", "--out", "t.json")
    out = run_ok(capsys, "train", "--resume", "t.json", *common)
    assert "engine torch" in out
    done = json.loads((in_tmp / "t-001.json").read_text())["run"]
    assert done["engine"] == "torch" and done["engine_options"] == {"dtype": "float32"} and done["step"] == 6


def test_a_dry_run_checks_everything_and_writes_nothing(in_tmp, tiny_data, capsys):
    out = run_ok(capsys, "train", "--data", str(tiny_data), "--log", "l.jsonl", "--dry-run")
    assert "dry run" in out and sorted(p.name for p in in_tmp.iterdir()) == ["tiny.txt"]
    fails_cleanly(capsys, "train", "--data", str(tiny_data), "--n-embd", "4096", "--n-layer", "96", "--dry-run",
                  words="50,000,000")


def test_info_on_a_damaged_run_record_is_one_line(tiny_ckpt, capsys):
    doc = json.loads(tiny_ckpt.read_text())
    doc["run"]["step"] = "ten"
    tiny_ckpt.write_text(json.dumps(doc))
    fails_cleanly(capsys, "info", "-c", str(tiny_ckpt), words="run.step is 'ten'")


@pytest.mark.parametrize("argv, words", [
    (["cook", "--n", str(10**20)], "10000"),
    (["cook", "--temperature", "nan"], "--temperature"),
    (["cook", "--checkpoint", ""], "--checkpoint"),
    (["train", "--n-layer", "100000"], "96"),
    (["train", "--engine", "torch", "--micro-batch", "0"], "--micro-batch"),
    (["train", "--batch-size", "2", "--engine", "torch", "--micro-batch", "3"], "at most --batch-size"),
    (["train", "--block-size", "65536", "--batch-size", "64"], "GiB"),
    (["train", "--seed", "-1"], "--seed"),
    (["service", "kv", "--repeats", str(10**21)], "--repeats"),
    (["service", "kv", "--threads", "100000"], "--threads"),
    (["tour", "--out", "/proc/x", "--no-questions"], "--out /proc/x"),
    (["assistant", "build", "--quick", "--seed", "-1"], "--seed"),
    (["assistant", "build", "--quick", "--preset", "gpu"], "two sizes"),
    (["assistant", "chat", "--temperature", "nan"], "--temperature"),
    (["assistant", "chat", "--temperature", "inf"], "--temperature"),
    (["assistant", "chat", "--temperature", "1e308"], "--temperature"),
    (["assistant", "chat", "--seed", str(10**20)], "--seed"),
    (["web", "--port", "0"], "--port"),
    (["bench", "--repeats", str(10**30)], "--repeats"),
])
def test_every_count_and_size_has_a_bound_and_says_it(in_tmp, tiny_data, capsys, argv, words):
    fails_cleanly(capsys, *argv, *(["--data", str(tiny_data)] if argv[0] == "train" else []), words=words)


def test_web_checks_its_checkpoints_and_its_port_before_it_listens(tiny_ckpt, capsys):
    pytest.importorskip("uvicorn")
    truncated = tiny_ckpt.with_name("truncated.json")
    truncated.write_text(tiny_ckpt.read_text()[:200])
    fails_cleanly(capsys, "web", "-c", str(truncated), words="corrupt or truncated")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        fails_cleanly(capsys, "web", "--port", port, "--dry-run", words=f"cannot listen on 127.0.0.1:{port}")
    assert "dry run" in run_ok(capsys, "web", "-c", str(tiny_ckpt), "--port", port, "--dry-run")


@pytest.mark.parametrize("after", [0.3, 2.5])
def test_ctrl_c_while_a_command_starts_exits_130_without_a_traceback(in_tmp, after):
    pytest.importorskip("uvicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    # Python's own Ctrl-C handler first: a shell's background job (`cmd &`) starts its children with SIGINT
    # ignored, and Python then keeps it ignored, so the suite run that way would see no Ctrl-C at all
    start = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); from omakase.cli import run; run()"
    command = [sys.executable, "-c", start, "web", "--port", port]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)  # loading the commands, then the server up (or starting)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err


def test_show_tokens_shows_a_reply_that_ends_inside_an_unfinished_tool_call(in_tmp, capsys, monkeypatch):
    torch = pytest.importorskip("torch")  # noqa: F841
    from omakase.assistant.skills import chat_format, tools
    from omakase.bpe import BPE
    from omakase.config import GPTConfig
    from omakase.engines.torch import init_gpt
    from omakase.model import save

    bpe = BPE.train("the cat sat on the mat 0+0+0", 256 + 20, specials=chat_format.SPECIALS + tools.TOOL_SPECIALS)
    network = init_gpt(GPTConfig(vocab_size=bpe.vocab_size, n_layer=1, n_embd=16, n_head=2, block_size=64), 0)
    save(in_tmp / "b" / "sft", network, bpe, {"stage": "sft", "preset": "quick", "seed": 0})
    ids = [bpe.special[tools.CALC]] + bpe.encode("0+0+0+0")  # the length limit came inside the call

    def cut_off(model, tokenizer, conversation, *args, **kwargs):
        return tools.SaidWithTools("", ids, [True] * len(ids), [], False, "length")

    monkeypatch.setattr(tools, "reply_with_tools", cut_off)
    out = run_ok(capsys, "assistant", "chat", "--model", "b/sft", "--prompt", "2+2?", "--no-tools", "--show-tokens")
    text = " ".join(out.split())
    assert "unfinished tool call" in text and "0+0+0+0" in text and "(nothing)" not in text
    assert f"the reply as written, not kept in the conversation: '<|calc|>':{ids[0]}" in text


def test_a_second_pretrain_into_the_same_folder_is_refused_before_work(in_tmp, capsys):
    pytest.importorskip("torch")
    from omakase import files

    (in_tmp / "b" / "base").mkdir(parents=True)
    assert files.claim(in_tmp / "b" / "base" / "model.json")  # the first run, still going (this process)
    fails_cleanly(capsys, "assistant", "pretrain", "--quick", "--out", "b", words="reserved by another run")


def test_a_port_this_user_may_not_open_is_one_line(in_tmp, capsys, monkeypatch):
    pytest.importorskip("uvicorn")

    def refused(self, address):  # what an unprivileged user meets on port 22
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refused)
    fails_cleanly(capsys, "web", "--port", "22", words="cannot listen on 127.0.0.1:22: Permission denied; ports below "
                                                      "1024 need administrator rights")


def test_an_interrupted_build_says_so_and_leaves_no_empty_folder(in_tmp, capsys, monkeypatch):
    pytest.importorskip("torch")
    from omakase.assistant.measure import build as building

    def interrupted(preset, out, seed, tick, say, resume):
        raise KeyboardInterrupt

    monkeypatch.setattr(building, "build", interrupted)
    assert main(["assistant", "build", "--quick"]) == 130
    assert "interrupted: no step had finished; nothing to resume" in capsys.readouterr().out

    def after_a_step(preset, out, seed, tick, say, resume):
        building.Steps(out, preset, seed).finish("pretrain")
        raise KeyboardInterrupt

    monkeypatch.setattr(building, "build", after_a_step)
    assert main(["assistant", "build", "--quick", "--out", "kept"]) == 130
    said = " ".join(capsys.readouterr().out.split())
    assert "the steps finished so far are kept in kept/; go on with: omakase assistant build --preset quick " \
           "--seed 0 --out kept --resume" in said
    (in_tmp / "kept" / building.PROGRESS).unlink()
    (in_tmp / "kept").rmdir()
    monkeypatch.setattr(building, "build", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["assistant", "build", "--quick"])
    assert list((in_tmp / "assistant-runs").iterdir()) == []  # neither run left an empty build folder
