"""The size sweep (`omakase service sweep`): random-weight GPTs timed with and without the KV cache, float32
and int8; its sentences follow its rows, and every timing table says how busy the machine was."""

import csv
import os

import pytest
import torch

from omakase.cli import main
from omakase.config import GPTConfig
from omakase.engines.torch import init_gpt
from omakase.serving import sweep
from omakase.serving.measured import Measured
from omakase.serving.quantize import LinearGPT, torch_dynamic_int8
from omakase.timing import load_lines

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def fails_cleanly(capsys, *argv, words=""):
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and words in err, err


def test_linear_gpt_decodes_with_its_cache_as_the_gpt_does():
    net = init_gpt(GPTConfig(50, n_layer=2, n_embd=32, n_head=4, block_size=12), seed=1).eval()
    linear, ids = LinearGPT(net), torch.randint(50, (1, 12), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        whole = net(ids)
        gpt_cache, cache = net.new_cache(), linear.new_cache()
        # the first five tokens at once, then one at a time: each step's logits as the whole pass's
        assert torch.allclose(linear(ids[:, :5], cache, 0), whole[:, :5], atol=1e-5)
        net(ids[:, :5], gpt_cache, 0)
        for t in range(5, 12):
            step = linear(ids[:, t:t + 1], cache, t)
            assert torch.allclose(step, whole[:, t:t + 1], atol=1e-5)
            assert torch.allclose(step, net(ids[:, t:t + 1], gpt_cache, t), atol=1e-5)
        int8, _ = torch_dynamic_int8(net)  # module swapping keeps the cached forward
        assert int8(ids[:, :1], int8.new_cache(), 0).shape == (1, 1, 50)


def test_sizes_are_counted_and_bounded():
    sizes = sweep.configs()
    params = [sweep.count_params(c) for c in sizes]
    assert params == sorted(params) and 80e6 < params[-1] <= sweep.MAX_PARAMS  # GPT-2 small's layers, 1,024 positions
    assert len(sweep.configs(params[1])) == 2
    with pytest.raises(sweep.OmakaseError, match="below the smallest size"):
        sweep.configs(1000)


def made_up(int8_ratios: dict, kv_ratio: float = 5.0, spread: float = 0.05) -> Measured:
    """Sweep rows with chosen speed-ups: {parameters: INT8 x}, two contexts each."""
    rows = []
    for params, int8_x in int8_ratios.items():
        for context in (64, 1024):
            cached = 1000.0
            rows.append([params, "?", context, cached / kv_ratio, cached, kv_ratio, cached, cached * int8_x, int8_x,
                         params * 4e-6, params * 1e-6, 4000.0, spread])
    return Measured("sweep", "made up", list(sweep.COLUMNS), rows)


def test_the_int8_sentence_follows_the_rows():
    from_second = sweep.findings(made_up({1_000_000: 0.6, 20_000_000: 1.4, 90_000_000: 1.9}))[0]
    never = sweep.findings(made_up({1_000_000: 0.6, 20_000_000: 0.8, 90_000_000: 0.97}))[0]
    within_noise = sweep.findings(made_up({1_000_000: 0.6, 20_000_000: 1.02, 90_000_000: 1.03}))[0]
    everywhere = sweep.findings(made_up({1_000_000: 1.2, 20_000_000: 1.4}))[0]
    scattered = sweep.findings(made_up({1_000_000: 0.6, 20_000_000: 1.4, 90_000_000: 0.9}))[0]
    assert from_second.startswith("INT8 pays from 20.0 M parameters on") and "0.60x" in from_second
    assert never.startswith("INT8 never paid here") and "0.97x" in never
    assert within_noise.startswith("INT8 never paid here")  # 1.03x with a 5% spread is not told apart from none
    assert everywhere.startswith("INT8 paid at every size")
    assert scattered.startswith("INT8 paid at 20.0 M parameters but not at every larger size")
    assert len({from_second, never, everywhere, scattered}) == 4


def test_the_kv_and_bound_sentences_follow_the_rows():
    paying, kv, bound = sweep.findings(made_up({1_000_000: 0.6, 90_000_000: 1.9}, kv_ratio=30.0))
    assert kv.startswith("The KV cache paid at every size") and "30.0x" in kv
    assert "25%" in bound and "per-call overhead" in bound  # 1,000 tokens/s against a bound of 4,000
    rows = made_up({1_000_000: 0.6, 90_000_000: 1.9})
    rows.rows[0][sweep.COLUMNS.index("KV x")] = 1.0  # the small model at context 64: no gain
    assert "1.0 M: from context 1,024" in sweep.findings(rows)[1]
    never = sweep.findings(made_up({1_000_000: 0.6, 90_000_000: 1.9}, kv_ratio=1.02))[1]
    assert never.startswith("The KV cache did not pay at any size")


def test_a_quick_sweep_writes_its_table_figure_and_report_and_warns_when_busy(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0 * (os.cpu_count() or 1), 0.0, 0.0))
    out = tmp_path / "sweep"
    assert main(["service", "sweep", "--quick", "--repeats", "1", "--contexts", "4,8", "--threads", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "warning: the machine was busy" in printed and "machine load" in printed and "INT8" in printed
    for name in ("report.md", "sweep.csv", "sweep.json", "sweep.png", "all.json"):
        assert (out / name).is_file(), name
    with open(out / "sweep.csv", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == sweep.COLUMNS and [(r[0], r[2]) for r in rows] == [
        (str(sweep.count_params(c)), str(n)) for c in sweep.configs(sizes=sweep.QUICK_SIZES, vocab=sweep.QUICK_VOCAB,
                                                                    block=8) for n in (4, 8)]
    report = (out / "report.md").read_text()
    assert "warning: the machine was busy" in report and "![INT8 " in report  # the caption states the finding
    fails_cleanly(capsys, "service", "sweep", "--quick", "--out", str(out), words="--force")


def test_a_quiet_machine_gets_no_warning(monkeypatch):
    cores = os.cpu_count() or 1
    assert len(load_lines(0.1, 0.2)) == 1 and "0.10 before the measurement, 0.20 at its end" in load_lines(0.1, 0.2)[0]
    # the measurement's own threads raise the load at the end: only the load before it is judged
    assert len(load_lines(0.1, cores + 0.5)) == 1
    busy = load_lines(0.6 * cores + 0.01, 0.2)
    assert len(busy) == 2 and busy[1].startswith("warning")


def test_the_kv_table_states_the_load_and_its_spread(target_ckpt, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert main(["service", "kv", "-c", str(target_ckpt), "--repeats", "1", "--out", str(tmp_path / "kv")]) == 0
    printed = capsys.readouterr().out
    assert "machine load (1-minute average): 0.00" in printed and "warning" not in printed and "spread" in printed


def test_bad_sweep_options_get_one_line(target_ckpt, tmp_path, capsys):
    fails_cleanly(capsys, "service", "sweep", "--max-params", "0", words="--max-params")
    fails_cleanly(capsys, "service", "sweep", "--max-params", str(10**12), words="--max-params")
    fails_cleanly(capsys, "service", "sweep", "--max-params", "1000", words="below the smallest size")
    for bad in ("a,b", "0", "2000", "64,,256", "1,2,3,4,5,6,7,8,9"):
        fails_cleanly(capsys, "service", "sweep", "--contexts", bad, "--dry-run", words="--contexts")
    fails_cleanly(capsys, "service", "sweep", "--contexts", " ", words="--contexts")
    fails_cleanly(capsys, "service", "sweep", "-c", str(target_ckpt), words="--checkpoint")
    fails_cleanly(capsys, "service", "kv", "-c", str(target_ckpt), "--quick", words="--quick")
    fails_cleanly(capsys, "service", "kv", "-c", str(target_ckpt), "--contexts", "64", words="--contexts")
    assert main(["service", "sweep", "--dry-run", "--out", str(tmp_path / "dry")]) == 0
    assert "92," in capsys.readouterr().out and not (tmp_path / "dry").exists()
