"""Every command answers every input: generated values for every option of every command, run in-process.

For each command the fuzzer first runs a base command line that reaches the command's work (a tiny
checkpoint and data set made here, and --dry-run where the command would train or serve: it checks
everything, then stops before any work). Then it gives one or two options generated values from each
class a user may type: empty, whitespace, NaN, infinities, negative, zero, huge (10^30), words,
unicode, and paths to missing, binary, truncated, wrong-kind and unwritable files. Each answer must
be exit 0 or 2, never a traceback, never a hang; an exit 2 is one line naming what was wrong (the
option or its value), or the base command line's own refusal when the generated value was fine.

The default budget keeps the module to a few seconds per command; `pytest --hypothesis-profile
thorough tests/test_cli_fuzz.py` (registered in conftest.py) runs twenty times as many.
A command that cannot be fuzzed yet goes in UNFUZZED, with the reason.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import pytest
import typer

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from omakase.cli import app, main  # noqa: E402

NAMES = ["ana", "bob", "cara", "dan", "eve", "fay", "gus", "hal", "ida", "jo", "kai", "lea", "mia", "ned"]

TIMEOUT = 30  # seconds one command may take before the case counts as a hang
PER_COMMAND = max(settings().max_examples // 5, 5)  # 20 per command by default; 400 under the thorough profile

# command path -> the base arguments that reach its work without doing any that takes long
BASE = {
    ("tour",): ["--dry-run", "--no-questions", "--data", "{tiny}", "--out", "{tmp}/tour-out"],
    ("train",): ["--data", "{tiny}", "--steps", "3", "--samples", "0", "--dry-run"],
    ("cook",): ["-c", "{ckpt}", "--n", "2"],
    ("score",): ["ana", "-c", "{ckpt}"],
    ("info",): ["-c", "{ckpt}"],
    ("eval",): ["-c", "{ckpt}"],
    ("baseline",): ["--data", "{tiny}"],
    ("bench",): ["--dry-run"],
    ("service",): ["kv", "-c", "{ckpt}", "--dry-run"],
    ("web",): ["--dry-run", "--port", "{port}"],
    ("assistant", "build"): ["--quick", "--dry-run"],
    ("assistant", "pretrain"): ["--quick", "--dry-run"],
    ("assistant", "report"): ["{tmp}/no-build"],  # refused at the folder, after every option
    ("assistant", "sft"): ["--model", "{tmp}/no-model"],
    ("assistant", "rl"): ["--model", "{tmp}/no-model"],
    ("assistant", "dpo"): ["--model", "{tmp}/no-model"],
    ("assistant", "reward-model"): ["--model", "{tmp}/no-model"],
    ("assistant", "chat"): ["--model", "{tmp}/no-model", "--prompt", "hi"],
    ("assistant", "tokens"): ["hello", "--model", "{tmp}/no-model"],
    # without the smollm2 extra, refused in one line naming the install
    ("assistant", "compare"): ["--out", "{tmp}/compare-out", "--preset", "quick", "--n", "2", "--dry-run"],
    ("lab", "similarity"): ["--item", "salt", "--item", "sugar", "--out", "{tmp}/similarity-out", "--dry-run"],
    ("lab", "metrics"): ["--dry-run"],
    ("lab", "eval"): ["--method", "bm25", "--dry-run"],
    ("lab", "make-set"): ["{code}", "--out", "{tmp}/set-out", "--dry-run"],
    ("lab", "index"): ["{code}", "--db", "{tmp}/new-index", "--dry-run"],
    # Ming's flavor cards embed without torch, so the index here is made in a moment
    ("lab", "search"): ["salt", "--db", "{index}", "--embedder", "ming", "--checkpoint", "{ckpt}", "--dry-run"],
    ("lab", "serve"): ["--db", "{index}", "--embedder", "ming", "--checkpoint", "{ckpt}", "--port", "{port}",
                       "--dry-run"],
    ("lab", "chunking"): ["--dry-run"],
}
UNFUZZED: set = set()  # a command that cannot be fuzzed yet, with the reason

NUMBERS = ["", "   ", "nan", "inf", "-inf", "-1", "0", "1", "3", "0.5", "1e308", "-1e308", str(10**30), "-" + str(10**30)]
WORDS = ["abc", "ünïcødé 名字", "\t", "-", "--", "x" * 300, "'; rm -rf /", "None"]
PATHS = ["{tmp}/missing/x.json", "{binary}", "{truncated}", "{tmp}", "{tiny}", "/proc/x/y", "/dev/null", "{ckpt}"]
VALUES = NUMBERS + WORDS + PATHS


def commands():
    """(path, click command) of every leaf command of the omakase CLI."""
    found = []

    def walk(group, path):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):  # a group: lab, assistant
                walk(cmd, path + (name,))
            else:
                found.append((path + (name,), cmd))

    walk(typer.main.get_command(app), ())
    return found


def fuzzed(path) -> bool:
    return not any(path[: len(skip)] == skip for skip in UNFUZZED)


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory):
    """A folder with what the base command lines name: a tiny data set and checkpoint, a binary file,
    a truncated checkpoint; the module's commands run inside it."""
    tmp = tmp_path_factory.mktemp("fuzz")
    tiny = tmp / "tiny.txt"
    tiny.write_text("\n".join(NAMES) + "\n")
    here = os.getcwd()
    os.chdir(tmp)
    try:
        assert main(["train", "--data", str(tiny), "--steps", "3", "--samples", "0", "--out", "ckpt.json"]) == 0
    finally:
        os.chdir(here)
    (tmp / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp / "truncated.json").write_text((tmp / "ckpt.json").read_text()[:200])
    code = tmp / "code"
    code.mkdir()
    (code / "kitchen.py").write_text('def salt(dish):\n    """Season a dish."""\n    return dish + " salted"\n')
    try:  # the lab's index (Chroma); without the lab extra the lab's commands are refused in one line anyway
        import chromadb  # noqa: F401

        os.chdir(tmp)
        assert main(["lab", "index", str(code), "--db", "index", "--embedder", "ming", "--checkpoint", "ckpt.json"]) == 0
    except ImportError:
        pass
    finally:
        os.chdir(here)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    names = {"tmp": str(tmp), "tiny": str(tiny), "ckpt": str(tmp / "ckpt.json"), "binary": str(tmp / "binary.bin"),
             "truncated": str(tmp / "truncated.json"), "port": str(port), "code": str(code), "index": str(tmp / "index")}
    return tmp, names


class Hang(Exception):
    pass


def invoke(folder: Path, argv: list[str]) -> tuple[int, str]:
    """omakase ARGV in-process inside typer's runner (stdin empty, output captured); (exit code, stderr)."""
    def hang(*_):
        raise Hang(f"omakase {' '.join(argv)} took more than {TIMEOUT} s")

    here = os.getcwd()
    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(TIMEOUT)
    try:
        os.chdir(folder)
        with CliRunner().isolation(input="") as (_, err, _):
            code = main(argv)
            sys.stdout.flush()
            sys.stderr.flush()
            return code, err.getvalue().decode("utf-8", "replace")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(here)


def is_argument(param) -> bool:
    return param.param_type_name == "argument"


def options(cmd) -> list:
    return [p for p in cmd.params if p.name not in ("help", "dry_run")]


def names_of(param) -> list[str]:
    words = [param.name, param.name.replace("_", "-"), param.name.replace("_", " ")]
    return words + [o for o in getattr(param, "opts", []) if o.startswith("--")]


def value_names(value: str) -> list[str]:
    """How a refusal may quote a value: as typed, or in quotes when it is blank (a bare blank names nothing);
    a value that starts with a dash is read as options, and the parser names the first of them (-1 of -1e308)."""
    dashed = [f"option: {value[:2]}"] if value.startswith("-") else []
    named = [Path(value).name] if "/" in value and Path(value).name else []  # a file named by its name alone
    return [repr(value), f'"{value}"'] + ([value] if value.strip() else []) + dashed + named


def argv_for(param, value: str) -> list[str]:
    if is_argument(param):
        return [value]
    if getattr(param, "is_flag", False):
        return [param.opts[0]]
    return [param.opts[0], value]


LEAVES = [(path, cmd) for path, cmd in commands() if fuzzed(path)]


def test_every_command_is_fuzzed_or_says_why():
    """A new command is fuzzed from its first day: it needs a base command line here (or a reason in UNFUZZED)."""
    missing = [" ".join(path) for path, _ in LEAVES if path not in BASE]
    assert not missing, f"add a base command line to BASE for: {missing}"


@pytest.mark.parametrize("path", [path for path, _ in LEAVES], ids=" ".join)
def test_every_input_gets_exit_0_or_2_and_one_line(kitchen, path):
    folder, names = kitchen
    cmd = dict(LEAVES)[path]
    base = [a.format(**names) for a in BASE[path]]
    params = options(cmd)
    base_code, base_err = invoke(folder, [*path, *base])
    assert base_code in (0, 2) and "Traceback" not in base_err, base_err

    cases = []

    @settings(max_examples=PER_COMMAND, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.sampled_from(params), st.sampled_from(VALUES)), min_size=1, max_size=2))
    def case(chosen):
        argv = list(path)
        # positional arguments keep their base value unless generated; options go after the base line
        arguments = {p.name: v.format(**names) for p, v in chosen if is_argument(p)}
        fixed = [p for p in cmd.params if is_argument(p)]
        given_base = list(base)
        for i, p in enumerate(fixed):
            if p.name in arguments and i < len(given_base):
                given_base[i] = arguments[p.name]
        argv += given_base
        for p, v in chosen:
            if not is_argument(p):
                argv += argv_for(p, v.format(**names))
        code, err = invoke(folder, argv)
        cases.append(argv)
        lines = err.strip().splitlines()
        assert code in (0, 2), (argv, code, err)
        assert "Traceback" not in err, (argv, err)
        if code == 2:
            assert len(lines) == 1, (argv, err)
            said = lines[0]
            named = any(w in said for p, v in chosen for w in names_of(p) + value_names(v.format(**names)))
            assert named or said == base_err.strip(), (argv, said)

    case()
    print(f"omakase {' '.join(path)}: {len(cases)} generated cases")  # shown with pytest -s
