"""`omakase web`'s one-line refusals (the command itself is registered in omakase/cli/__init__.py)."""

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


def test_a_port_out_of_range_is_refused():
    result = run("--port", "70000")
    assert isinstance(result.exception, typer.BadParameter) and "65535" in str(result.exception)


def test_a_missing_checkpoint_is_refused(tmp_path):
    result = run("--checkpoint", str(tmp_path / "nope.json"))
    assert isinstance(result.exception, OmakaseError) and "is not a file" in str(result.exception)


def test_a_taken_port_is_refused_in_one_line():
    pytest.importorskip("uvicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        result = run("--port", str(s.getsockname()[1]))
    assert isinstance(result.exception, OmakaseError) and "cannot listen" in str(result.exception)


def test_without_the_extra_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # importing it now raises ImportError
    result = run()
    assert isinstance(result.exception, OmakaseError)
    assert str(result.exception) == 'the web kitchen needs its extra: pip install -e ".[web]" (fastapi, uvicorn)'


def test_it_prints_the_url_and_warns_when_bound_beyond_this_machine(monkeypatch, tmp_path):
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)  # start nothing: only what it prints
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    local = run("--port", str(port))
    assert local.exception is None and f"http://127.0.0.1:{port}/" in local.output and "warning" not in local.output
    wide = run("--port", str(port), "--host", "0.0.0.0")
    assert wide.exception is None and "warning" in wide.output and f"http://0.0.0.0:{port}/" in wide.output
