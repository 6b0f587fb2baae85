"""Many stoves: 2 processes under torchrun (gloo, CPU) train exactly as 1 process with the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason='the torch extra is not installed: pip install -e ".[torch]"')

TRAIN = ["train", "--engine", "torch", "--dtype", "float64", "--device", "cpu", "--steps", "8", "--batch-size", "5",
         "--samples", "0"]


def torchrun(cwd: Path, *args: str) -> None:
    """`torchrun --standalone --nproc_per_node=2 -m omakase ...` in cwd (the runner beside this Python)."""
    runner = Path(sys.executable).with_name("torchrun")
    command = [str(runner)] if runner.exists() else [sys.executable, "-m", "torch.distributed.run"]
    subprocess.run([*command, "--standalone", "--nproc_per_node=2", "-m", "omakase", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})


def one_process(cwd: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "omakase", *args], cwd=cwd, check=True, capture_output=True, timeout=300)


def losses(path: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in path.read_text().splitlines()]


def params(path: Path) -> list[float]:
    doc = json.loads(path.read_text())
    return [x for rows in doc["params"].values() for row in rows for x in row]


@pytest.mark.slow  # two torchrun launches and two single-process runs: about 20 s on 2 cores
def test_two_processes_equal_one_with_the_same_global_batch(tmp_path, tiny_data):
    data = ["--data", str(tiny_data)]
    torchrun(tmp_path, *TRAIN, *data, "--out", "two.json", "--log-file", "two.jsonl")
    one_process(tmp_path, *TRAIN, *data, "--out", "one.json", "--log-file", "one.jsonl")
    assert losses(tmp_path / "two.jsonl") == pytest.approx(losses(tmp_path / "one.jsonl"), abs=1e-9)
    assert params(tmp_path / "two.json") == pytest.approx(params(tmp_path / "one.json"), abs=1e-9)
    assert not list(tmp_path.glob("runs"))  # rank 1 wrote nothing: one writer

    # paused on 2 stoves, resumed on 1: the same run, because the global batch did not change
    torchrun(tmp_path, *TRAIN, *data, "--pause-at", "4", "--out", "paused.json", "--log-file", "paused.jsonl")
    one_process(tmp_path, "train", "--resume", "paused.json", "--engine", "torch", "--dtype", "float64",
                "--device", "cpu", "--samples", "0", "--log-file", "paused.jsonl")
    assert losses(tmp_path / "paused.jsonl") == pytest.approx(losses(tmp_path / "one.jsonl"), abs=1e-9)
    assert params(tmp_path / "paused-001.json") == pytest.approx(params(tmp_path / "one.json"), abs=1e-9)  # resumed


@pytest.mark.slow
def test_two_nodes_meeting_at_a_rendezvous_equal_one_process(tmp_path, tiny_data):
    """Two torchrun launchers (--nnodes=2, one process each) and a c10d rendezvous on localhost: a cluster in small."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{s.getsockname()[1]}"
    runner = Path(sys.executable).with_name("torchrun")
    command = [str(runner)] if runner.exists() else [sys.executable, "-m", "torch.distributed.run"]
    args = [*TRAIN, "--data", str(tiny_data), "--out", "nodes.json", "--log-file", "nodes.jsonl"]
    nodes = [subprocess.Popen([*command, "--nnodes=2", "--nproc_per_node=1", f"--node_rank={node}",
                               "--rdzv_backend=c10d", f"--rdzv_endpoint={endpoint}", "--rdzv_id=omakase-test",
                               "-m", "omakase", *args], cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for node in (0, 1)]
    assert [node.wait(timeout=300) for node in nodes] == [0, 0]
    one_process(tmp_path, *TRAIN, "--data", str(tiny_data), "--out", "one.json", "--log-file", "one.jsonl")
    assert losses(tmp_path / "nodes.jsonl") == pytest.approx(losses(tmp_path / "one.jsonl"), abs=1e-9)
    assert params(tmp_path / "nodes.json") == pytest.approx(params(tmp_path / "one.json"), abs=1e-9)


@pytest.mark.slow
def test_every_assistant_stage_on_two_processes_equals_one(tmp_path):
    """Pretraining, SFT, the reward model, DPO and RL through fit: 2 processes (gloo) against 1, same global batch.

    float32 gradients summed across processes differ from one process's in the last bits; Adam's first steps
    divide by the gradients' own size, so the weights agree to 1e-3 and the losses to 1e-4."""
    script = Path(__file__).with_name("stages_on_stoves.py")
    runner = Path(sys.executable).with_name("torchrun")
    command = [str(runner)] if runner.exists() else [sys.executable, "-m", "torch.distributed.run"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*command, "--standalone", "--nproc_per_node=2", str(script), "two.json"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300, env=env)
    subprocess.run([sys.executable, str(script), "one.json"], cwd=tmp_path, check=True, capture_output=True,
                   timeout=300, env=env)
    one, two = (json.loads((tmp_path / name).read_text()) for name in ("one.json", "two.json"))
    assert set(one) == {"pretrain", "sft", "reward_model", "dpo", "rl", "weights"}
    for stage in ("pretrain", "sft", "reward_model", "dpo", "rl"):
        assert two[stage] == pytest.approx(one[stage], abs=1e-4), stage
    assert two["weights"] == pytest.approx(one["weights"], rel=1e-3)
