"""`omakase assistant rl|dpo|reward-model`: a stage folder in, a stage folder out, on a tiny SFT model.

Usage, as a user runs them on a build (DIR/sft-choose, practice's start, for RL; DIR/sft for the critics):

    omakase assistant rl --model DIR/sft-choose
    omakase assistant dpo --model DIR/sft
    omakase assistant reward-model --model DIR/sft
"""

import json

import pytest

torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from omakase.assistant.stages import preference, reward_model, stage_folders  # noqa: E402
from omakase.assistant.stages.stage_folders import reward_model_of  # noqa: E402
from omakase.cli import app, main  # noqa: E402
from omakase.config import GPTConfig  # noqa: E402
from omakase.engines.torch import init_gpt  # noqa: E402
from omakase.model import load, save  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture
def sft_folder(in_tmp, small_bpe):
    """A tiny untrained GPT saved as a quick build's SFT stage (its world: the small one, seed 0)."""
    network = init_gpt(GPTConfig(vocab_size=small_bpe.vocab_size, n_layer=1, n_embd=16, n_head=2, block_size=96), 0)
    return save(in_tmp / "b" / "sft", network, small_bpe, {"stage": "sft", "preset": "quick", "seed": 0})


def said(result) -> str:
    return " ".join(result.output.split())  # the console wraps long lines


def weights(folder):
    return json.loads((folder / "model.json").read_text())


def test_rl_writes_its_stage_and_refuses_to_overwrite(sft_folder, capsys):
    """The real thing on a tiny model: the quick build's training letter counts, 2 questions, 8 answers each."""
    result = CliRunner().invoke(app, ["assistant", "rl", "--model", str(sft_folder), "--steps", "1", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "RL: 2 training letter counts per step, 1 steps" in said(result) and "KL to the SFT model" in said(result)
    trained = load(sft_folder.parent / "rl", kind="bpe", stage="rl")
    assert trained.run["from"] == str(sft_folder) and trained.run["plan"]["steps"] == 1
    assert trained.run["plan"]["beta1"] == 0.9  # the preset's plan (nanoGPT's habits), the options on top
    assert main(["assistant", "rl", "--model", str(sft_folder), "--steps", "1"]) == 2  # taken: one line, no work
    assert "already exists" in capsys.readouterr().err
    assert main(["assistant", "rl", "--model", str(sft_folder), "--steps", "0"]) == 2
    assert "Invalid value for '--steps'" in capsys.readouterr().err


def test_dpo_and_the_reward_model_train_on_ranked_answers(sft_folder, small_bpe, monkeypatch):
    """An untrained model's answers all score alike (no pair): the pairs here are a toy preference, currency or not."""
    ask = preference.Prompt("toy", "Price?", "fact", "It is $5.", money=True)
    toy = preference.Pairs([preference.Pair(ask, f"It is ${n}.", f"It is {n}.", 6, 5) for n in range(4, 16)],
                           prompts=12, ties=0, replies=48, mean_score=5.5)
    monkeypatch.setattr(stage_folders, "training_pairs", lambda *args, **kw: toy)
    runner = CliRunner()
    args = ["--model", str(sft_folder), "--steps", "2", "--batch-size", "2", "--per-kind", "3"]
    result = runner.invoke(app, ["assistant", "dpo", *args])
    assert result.exit_code == 0, result.output
    assert "DPO: 12 pairs from 12 training prompts" in said(result) and "of these training pairs" in said(result)
    tuned = load(sft_folder.parent / "dpo", kind="bpe", stage="dpo")
    assert tuned.run["beta"] == 0.1 and tuned.run["plan"]["steps"] == 2
    assert weights(sft_folder)["params"] != weights(sft_folder.parent / "dpo")["params"]  # a tuned copy, the input kept

    result = runner.invoke(app, ["assistant", "reward-model", *args, "--out", "critic"])
    assert result.exit_code == 0, result.output
    folder = sft_folder.parent.parent / "critic"
    saved = load(folder, kind="bpe", stage="reward_model")
    rm = reward_model_of(saved.network, saved.run["head"])
    assert rm.head.weight.abs().sum() > 0  # trained: a zero head scores every reply 0
    assert "it ranks" in said(result) and "training pairs right" in said(result)
    score = reward_model.reward_function(rm, small_bpe)
    assert score("Price?", "It is $7.") != score("Price?", "It is 7.")  # the saved head reads the replies
    result = runner.invoke(app, ["assistant", "reward-model", *args, "--out", "critic", "--force"])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_rl_under_torchrun_on_two_processes_writes_what_one_process_writes(sft_folder):
    """`torchrun --nproc_per_node=2 -m omakase assistant rl ...`: each process samples its share of the
    questions; the weights match one process's to float32 noise, and only rank 0 wrote."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    runner = Path(sys.executable).with_name("torchrun")
    launcher = [str(runner)] if runner.exists() else [sys.executable, "-m", "torch.distributed.run"]
    args = ["assistant", "rl", "--model", str(sft_folder), "--steps", "2", "--batch-size", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    shared = subprocess.run([*launcher, "--standalone", "--nproc_per_node=2", "-m", "omakase", *args, "--out", "two"],
                            capture_output=True, text=True, timeout=300, env=env)
    assert shared.returncode == 0, shared.stdout[-1000:] + shared.stderr[-2000:]
    assert "2 processes share each step's batch" in shared.stdout
    subprocess.run([sys.executable, "-m", "omakase", *args, "--out", "one"], check=True, capture_output=True,
                   timeout=300, env=env)
    two, one = (load(name, kind="bpe", stage="rl").network for name in ("two", "one"))
    for name in one.names:
        assert torch.allclose(two.w(name), one.w(name), atol=1e-4), name


def test_bad_input_is_one_line_before_any_work(in_tmp, capsys):
    for argv, words in ((["rl", "--model", "nowhere"], "holds no assistant model"),
                        (["dpo", "--model", "nowhere", "--beta", "0"], "'--beta': must be > 0"),
                        (["dpo", "--model", "nowhere", "--beta", "nan"], "'--beta': must be a finite number"),
                        (["reward-model", "--model", "nowhere", "--per-kind", "0"], "'--per-kind'"),
                        (["rl", "--model", "nowhere", "--steps", str(10**7)], "'--steps'")):
        assert main(["assistant", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err, err
    assert not list(in_tmp.iterdir())  # nothing reserved, nothing written
