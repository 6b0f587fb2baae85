"""`omakase assistant`: bad input is one line (exit 2) before any work; `build --quick` runs every stage (slow)."""

import json

import pytest

pytest.importorskip("torch")

from omakase.cli import main  # noqa: E402


def one_line_error(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err


def test_bad_input_is_one_line(in_tmp, capsys):
    one_line_error(capsys, ["assistant", "build", "--preset", "huge"], "unknown preset 'huge'")
    one_line_error(capsys, ["assistant", "stage"], "No such command")
    one_line_error(capsys, ["assistant", "pretrain", "--preset", "huge"], "unknown preset 'huge'")
    one_line_error(capsys, ["assistant", "sft", "--model", "nowhere"], "holds no assistant model")
    one_line_error(capsys, ["assistant", "sft", "--model", "nowhere", "--name", " "], "--name is empty")
    one_line_error(capsys, ["assistant", "chat", "--prompt", "  "], "--prompt is empty")
    one_line_error(capsys, ["assistant", "chat", "--prompt", "hi"], "no assistant in ./assistant-runs")
    one_line_error(capsys, ["assistant", "chat", "--model", "nowhere", "--prompt", "hi"], "holds no assistant model")
    one_line_error(capsys, ["assistant", "chat", "--temperature", "-1"], "--temperature", "must be >= 0")
    one_line_error(capsys, ["assistant", "tokens", ""], "the text is empty")
    one_line_error(capsys, ["assistant", "tokens", "hello"], "no tokenizer in ./assistant-runs")
    one_line_error(capsys, ["assistant", "report", "nowhere"], "report.json does not exist")
    (in_tmp / "taken").mkdir()
    (in_tmp / "taken" / "base").mkdir()
    one_line_error(capsys, ["assistant", "build", "--quick", "--out", "taken"], "already holds a build", "--force")


@pytest.mark.slow
def test_build_quick_runs_every_stage_and_the_models_talk(in_tmp, capsys):
    assert main(["assistant", "build", "--quick", "--out", "b"]) == 0
    results = json.loads((in_tmp / "b" / "report.json").read_text())
    for key in ("corpus", "tokenizer", "base", "sft", "format", "harmful", "knowledge", "hallucination", "idk", "identity",
                "tools", "memory", "thinking", "practice", "critics", "digits"):
        assert key in results
    assert results["tools"]["bills"]["sft-tools"]["n"] == results["tools"]["bills"]["sft"]["n"] == 40
    assert len(results["practice"]["history"]["reward"]) == 3  # the quick preset's practice steps
    by_step = results["seconds_by_step"]  # where the time went, step by step, adding up to the build's
    assert list(by_step)[0] == "pretrain" and list(by_step)[-1] == "digits"
    assert 0 < sum(by_step.values()) <= results["seconds"]
    for stage in ("base", "sft", "sft-idk", "sft-tools", "sft-cards", "sft-short", "sft-work", "sft-choose", "rl",
                  "dpo", "digits/base", "digits/sft-short"):
        assert (in_tmp / "b" / stage / "model.json").is_file()
    report = (in_tmp / "b" / "report.md").read_text()
    assert "## 5. Knowledge lives in the parameters" in report and "(n=" in report
    for section in ("## 8. Tools", "## 9. Knowledge vs working memory", "## 10. Tokens to think",
                    "## 11. Practice", "## 12. The critics"):
        assert section in report
    assert main(["assistant", "report", "b", "--out", "again"]) == 0  # the report, written again from report.json
    assert (in_tmp / "again" / "report.md").read_text() == report
    capsys.readouterr()
    for stage in ("sft", "rl", "dpo"):  # any stage's model talks
        assert main(["assistant", "chat", "--model", f"b/{stage}", "--prompt", "Who are you?", "--show-tokens"]) == 0
    out = capsys.readouterr().out
    assert "<|assistant|>" in out.replace("'", "")
    bill = "How much are 2 miso soups and 1 unagi bowl?"
    assert main(["assistant", "chat", "--model", "b/sft-tools", "--prompt", bill]) == 0  # its calculator and search
    assert "no search tool" not in capsys.readouterr().out  # the build saved its library
    assert main(["assistant", "chat", "--model", "b/sft-tools", "--prompt", bill, "--no-tools"]) == 0  # or none
    assert main(["assistant", "tokens", "How many r's are in strawberry?", "--model", "b", "--html", "t.html"]) == 0
    assert (in_tmp / "t.html").read_text().count("<span") >= 3
    one_line_error(capsys, ["assistant", "chat", "--model", "b/base", "--prompt", "word " * 200], "reads at most 96")
    # the stage commands: an SFT model is not a base model; a base model fine-tunes into a new folder
    one_line_error(capsys, ["assistant", "sft", "--model", "b/sft"], "holds the 'sft' model; this step needs 'base'")
    one_line_error(capsys, ["assistant", "sft", "--model", "b/base"], "b/sft/model.json already exists")
    assert main(["assistant", "sft", "--model", "b/base", "--name", "Hana", "--out", "b/hana"]) == 0
    assert "Who are you?" in capsys.readouterr().out and (in_tmp / "b" / "hana" / "model.json").is_file()


def test_a_build_in_a_log_says_each_stage_as_plain_lines(capsys):
    from omakase.cli.assistant import _progress

    with _progress() as tick:  # under pytest the output is not a terminal: no bar, plain lines
        for done in range(0, 101):
            tick("pretrain", done, 100)
        tick("midtrain", 0, 10)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("] ")[1] for line in lines] == ["pretrain: 0/100", "pretrain: 100/100", "midtrain: 0/10"]
