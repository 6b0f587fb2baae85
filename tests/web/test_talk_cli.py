"""`omakase web --assistant DIR`: refused in one line before the port is taken when DIR is no build."""

import socket
import sys

import pytest
import typer
from typer.testing import CliRunner

from omakase.cli.web import web
from omakase.errors import OmakaseError

app = typer.Typer()
app.command()(web)


def run(*args):
    return CliRunner().invoke(app, list(args), standalone_mode=False)


def refusal(result) -> str:
    assert isinstance(result.exception, OmakaseError), result.output
    message = str(result.exception)
    assert "\n" not in message
    return message


def test_a_folder_that_is_not_there_or_a_file_is_refused(tmp_path):
    assert "is not a folder" in refusal(run("--assistant", str(tmp_path / "nope"), "--dry-run"))
    (tmp_path / "model.json").write_text("{}")
    assert "is not a folder" in refusal(run("--assistant", str(tmp_path / "model.json"), "--dry-run"))


def test_a_folder_without_a_finished_sft_model_is_not_a_build(tmp_path):
    message = refusal(run("--assistant", str(tmp_path), "--dry-run"))
    assert "is not an assistant build" in message and "omakase assistant build --quick" in message
    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "model.json").write_text("")  # reserved, never written: a build still under way
    assert "is not an assistant build" in refusal(run("--assistant", str(tmp_path), "--dry-run"))


def test_without_pytorch_it_says_what_to_install_before_taking_the_port(tmp_path, monkeypatch):
    (tmp_path / "sft-tools").mkdir()
    (tmp_path / "sft-tools" / "model.json").write_text('{"stage": "sft-tools"}')
    monkeypatch.setitem(sys.modules, "torch", None)  # importing it now raises ImportError
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()  # the port is taken: a refusal about it would mean the assistant was checked too late
        message = refusal(run("--assistant", str(tmp_path), "--port", str(s.getsockname()[1])))
    assert message.startswith("--assistant: omakase assistant needs PyTorch")


def test_a_model_that_cannot_be_read_is_one_line(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "model.json").write_text('{"format": "not a model"}')
    refusal(run("--assistant", str(tmp_path), "--dry-run"))
