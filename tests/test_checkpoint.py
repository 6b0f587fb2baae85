import json
import os
import random

import pytest

from omakase import checkpoint as ckpt_io
from omakase.config import GPTConfig, init_params
from omakase.errors import OmakaseError


def make(tmp_path):
    cfg = GPTConfig(vocab_size=4, n_embd=4, n_head=2, block_size=3)
    ck = ckpt_io.Checkpoint(cfg, "abc", init_params(cfg, random.Random(0)), run={"step": 0})
    path = tmp_path / "m.json"
    ckpt_io.save(ck, path)
    return ck, path


def test_round_trip_is_bit_exact_and_leaves_no_temp_files(tmp_path):
    ck, path = make(tmp_path)
    back = ckpt_io.load(path)
    assert back.params == ck.params and back.config == ck.config and back.chars == "abc"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # the permissions of any file the user writes


@pytest.mark.parametrize("damage, words", [
    (lambda t: t[: len(t) // 2], "corrupt or truncated"),
    (lambda t: json.dumps({"format": "something-else"}), "not an omakase checkpoint"),
    (lambda t: t.replace('"block_size":3', '"block_size":5'), "does not match"),
])
def test_damaged_checkpoints_are_clear_errors(tmp_path, damage, words):
    _, path = make(tmp_path)
    path.write_text(damage(path.read_text()))
    with pytest.raises(OmakaseError, match=words):
        ckpt_io.load(path)


def test_a_large_checkpoint_keeps_its_numbers_in_safetensors(tmp_path):
    pytest.importorskip("safetensors", reason='safetensors comes with the torch extra: pip install -e ".[torch]"')
    import random

    from omakase import checkpoint as ckpt_io
    from omakase.config import GPTConfig, init_params

    config = GPTConfig(vocab_size=27, n_layer=2, n_embd=64, n_head=4)  # more than TENSORS_AT parameters
    params = init_params(config, random.Random(0))
    moments = (init_params(config, random.Random(1)), init_params(config, random.Random(2)))
    ckpt_io.save(ckpt_io.Checkpoint(config, "abcdefghijklmnopqrstuvwxyz", params, moments, {"step": 3}),
                 tmp_path / "big.json")
    assert (tmp_path / "big.safetensors").is_file() and (tmp_path / "big.json").stat().st_size < 10_000
    again = ckpt_io.load(tmp_path / "big.json")
    assert again.params == params and again.moments == moments and again.run == {"step": 3}  # bit for bit
    (tmp_path / "big.safetensors").write_bytes((tmp_path / "big.safetensors").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(OmakaseError, match="sha256 differs"):
        ckpt_io.load(tmp_path / "big.json")
    (tmp_path / "big.safetensors").unlink()
    with pytest.raises(OmakaseError, match="missing"):
        ckpt_io.load(tmp_path / "big.json")


def test_version_2_records_the_tokenizer_and_version_1_files_still_load(tmp_path):
    ck, path = make(tmp_path)
    doc = json.loads(path.read_text())
    assert doc["version"] == 2 and doc["tokenizer"] == {"kind": "chars", "chars": "abc"} and "chars" not in doc
    doc["version"], doc["chars"] = 1, doc.pop("tokenizer")["chars"]  # the file as the first format wrote it
    old = tmp_path / "v1.json"
    old.write_text(json.dumps(doc))
    back = ckpt_io.load(old)
    assert back.chars == "abc" and back.bpe is None and back.params == ck.params
    assert back.tokenizer.encode("cab") == [3, 2, 0, 1, 3]
    doc["version"] = 7
    old.write_text(json.dumps(doc))
    with pytest.raises(OmakaseError, match="version 7; this omakase reads versions 1, 2"):
        ckpt_io.load(old)


def bpe_checkpoint(tmp_path):
    from omakase.bpe import BPE

    bpe = BPE.train("the cat sat on the mat; the cat ate " * 20, 270, specials=["<|doc|>"])
    cfg = GPTConfig(vocab_size=bpe.vocab_size, n_embd=4, n_head=2, block_size=3)
    ck = ckpt_io.Checkpoint(cfg, "", init_params(cfg, random.Random(0)), run={"step": 0}, bpe=bpe.to_dict())
    path = tmp_path / "bpe.json"
    ckpt_io.save(ck, path)
    return bpe, ck, path


def test_a_bpe_checkpoint_round_trips_when_asked_for(tmp_path):
    bpe, ck, path = bpe_checkpoint(tmp_path)
    assert json.loads(path.read_text())["tokenizer"]["kind"] == "bpe"
    back = ckpt_io.load(path, allow_bpe=True)
    assert back.params == ck.params and back.bpe == bpe.to_dict()
    assert back.tokenizer.encode("the cat") == bpe.encode("the cat") and back.tokenizer.special == {"<|doc|>": 269}
    doc = json.loads(path.read_text())
    doc["config"]["vocab_size"] += 1  # the vocabulary and the model must agree
    path.write_text(json.dumps(doc))
    with pytest.raises(OmakaseError, match="does not match its own config"):
        ckpt_io.load(path, allow_bpe=True)


def test_character_code_refuses_a_bpe_checkpoint_in_one_line(tmp_path, capsys):
    from omakase import train as training
    from omakase.cli import main

    _, ck, path = bpe_checkpoint(tmp_path)
    with pytest.raises(OmakaseError, match="trained with a BPE tokenizer; use omakase assistant"):
        ckpt_io.load(path)
    with pytest.raises(OmakaseError, match="trained with a BPE tokenizer"):
        training.resume(ck, ["the cat"], {"sha256": "x"}, "numpy")
    for argv in (["info", "-c", str(path)], ["cook", "-c", str(path)], ["train", "--resume", str(path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "trained with a BPE tokenizer" in err, err


@pytest.mark.parametrize("field, value", [("step", "ten"), ("steps", -1), ("lr", float("nan")), ("losses", [1, "x"]),
                                          ("val", [{"step": 1}]), ("data", {"name": 3}), ("engine", 7)])
def test_a_damaged_run_record_is_refused_at_load(tmp_path, field, value):
    ck, path = make(tmp_path)
    doc = json.loads(path.read_text())
    doc["run"][field] = value
    path.write_text(json.dumps(doc))  # NaN is written as NaN: json reads it back
    with pytest.raises(OmakaseError, match=f"damaged run record: run.{field}"):
        ckpt_io.load(path)


def test_a_reserved_name_is_not_a_checkpoint(tmp_path):
    from omakase import files

    path = files.reserve(tmp_path, "ming")
    assert path.name == "ming-001.json" and files.reserve(tmp_path, "ming").name == "ming-002.json"
    with pytest.raises(OmakaseError, match="reserved by a run"):
        ckpt_io.load(path)
    files.release(path)
    assert not path.exists()
