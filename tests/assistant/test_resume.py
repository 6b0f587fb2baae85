"""An interrupted `assistant build` goes on from its last finished step, and measures what a build that
was never stopped measures.

    omakase assistant build --out runs/a            # Ctrl-C part way: "interrupted: ... go on with: ..."
    omakase assistant build --out runs/a --resume   # the finished steps are read back, not run again
"""

import json
from dataclasses import replace

import pytest

pytest.importorskip("torch")

from omakase.assistant.measure import build as building  # noqa: E402
from omakase.assistant.measure.build_report import jsonable  # noqa: E402
from omakase.plan import nanogpt_plan  # noqa: E402

from test_cli_assistant import one_line_error  # noqa: E402

# every stage, as small as it gets: the test is about resuming, not about what the stages show
TINY = replace(building.PRESETS["quick"], n_layer=1, n_embd=32, n_head=2,
               pretrain=nanogpt_plan(steps=12, batch_size=8, lr=3e-3, warmup=2, eval_every=6, eval_batches=1),
               sft=nanogpt_plan(steps=6, batch_size=8, lr=1e-3, min_lr=1e-4, warmup=1, eval_every=3, eval_batches=1),
               midtrain=nanogpt_plan(steps=4, batch_size=8, lr=1e-3, min_lr=1e-4, warmup=1, eval_every=2, eval_batches=1),
               practice=nanogpt_plan(steps=2, batch_size=2, lr=3e-5, min_lr=3e-6, warmup=1, weight_decay=0.0),
               reward=nanogpt_plan(steps=2, batch_size=4, lr=1e-3, min_lr=1e-4, warmup=1),
               dpo=nanogpt_plan(steps=2, batch_size=4, lr=1e-4, min_lr=1e-5, warmup=1, weight_decay=0.0),
               probe_samples=1, max_questions=6, max_facts=6, bills=20, per_kind=3, held_pairs_per_kind=4, order_slips=20,
               midtrain_per_skill=20)


CLOCKS = {"seconds", "seconds_by_step", "tokens_per_second", "machine"}  # how long things took: never the same twice


def comparable(x):
    """Every measured number, without the clocks."""
    if isinstance(x, dict):
        return {k: comparable(v) for k, v in x.items() if k not in CLOCKS}
    if isinstance(x, list):
        return [comparable(v) for v in x]
    return x


class Stop(KeyboardInterrupt):
    pass


def stop_at(stage: str):
    """A progress callback that interrupts the build the first time `stage` reports (as Ctrl-C would)."""
    def tick(name, done, total):
        if name == stage:
            raise Stop
    return tick


@pytest.mark.slow
def test_a_build_stopped_twice_and_resumed_measures_what_an_unstopped_build_measures(tmp_path, monkeypatch):
    monkeypatch.setitem(building.PRESETS, "tiny", TINY)
    (tmp_path / "whole").mkdir()
    whole = building.build("tiny", tmp_path / "whole", say=lambda *a: None)

    out = tmp_path / "stopped"
    out.mkdir()
    with pytest.raises(Stop):  # after the claims: the base, mid and sft models are read back
        building.build("tiny", out, progress=stop_at("sft-idk"), say=lambda *a: None)
    assert json.loads((out / building.PROGRESS).read_text())["done"] == ["pretrain", "midtrain", "sft", "claims"]
    with pytest.raises(Stop):  # inside the critics: sft-work (the thinking step's model) is read back too
        building.build("tiny", out, progress=stop_at("reward model"), say=lambda *a: None, resume=True)
    assert json.loads((out / building.PROGRESS).read_text())["done"][-1] == "practice"
    resumed = building.build("tiny", out, say=lambda *a: None, resume=True)
    # compared as JSON text: a rate over no questions is NaN, and NaN == NaN is False in Python
    assert json.dumps(comparable(jsonable(resumed)), sort_keys=True) == json.dumps(comparable(jsonable(whole)),
                                                                                   sort_keys=True)


def test_resume_needs_the_interrupted_folder_and_its_preset(tmp_path, capsys):
    one_line_error(capsys, ["assistant", "build", "--quick", "--resume"], "--resume", "--out")
    one_line_error(capsys, ["assistant", "build", "--quick", "--out", str(tmp_path), "--resume"],
                   "holds no unfinished build", "--force")
    (tmp_path / building.PROGRESS).write_text(json.dumps({"preset": "quick", "seed": 3, "done": ["pretrain"],
                                                          "seconds": 1.0, "results": {}, "seen": {}}))
    one_line_error(capsys, ["assistant", "build", "--quick", "--out", str(tmp_path), "--resume"],
                   "preset 'quick', seed 3", "--seed 3")
    one_line_error(capsys, ["assistant", "build", "--quick", "--seed", "3", "--out", str(tmp_path)],
                   "interrupted build", "--resume")
    (tmp_path / building.PROGRESS).write_text("{not json")
    one_line_error(capsys, ["assistant", "build", "--quick", "--out", str(tmp_path), "--resume"], "is damaged")
