"""The presets: the same stages at every size, the generated data growing with the model."""

import pytest

pytest.importorskip("torch")  # the build module reads the stages, which train with PyTorch

from omakase.assistant.measure.build import PRESETS  # noqa: E402


def test_every_preset_mid_trains_and_the_generated_data_grows_with_the_model():
    quick, cpu, gpu = PRESETS["quick"], PRESETS["cpu"], PRESETS["gpu"]
    assert all(p.midtrain is not None and p.order_slips > 0 for p in (quick, cpu, gpu))
    assert quick.order_slips < cpu.order_slips < gpu.order_slips
    assert quick.midtrain_per_skill < cpu.midtrain_per_skill < gpu.midtrain_per_skill
    assert quick.midtrain.steps < cpu.midtrain.steps < gpu.midtrain.steps
    # copying numbers back wants more comparisons than the other skills get, at every size that measures it
    assert cpu.midtrain_per_skill < cpu.midtrain_comparisons < gpu.midtrain_comparisons
    assert gpu.midtrain_per_skill < gpu.midtrain_comparisons
    # every preset's corpus holds every kind of generated text (the quick build runs every stage of the cpu one)
    assert 0 < quick.spelling_lists < cpu.spelling_lists < gpu.spelling_lists
    assert 0 < quick.guest_questions < cpu.guest_questions < gpu.guest_questions


def test_the_laptop_run_measures_about_200_questions_a_set():
    assert PRESETS["cpu"].max_questions == 200 and PRESETS["quick"].max_questions < 200


def test_the_laptop_run_measures_every_held_out_fact_and_trains_its_critics_on_more_prompts_than_it_measures():
    cpu = PRESETS["cpu"]
    assert cpu.max_facts is None  # knowledge by exposure splits the facts four ways: each bucket needs them all
    assert cpu.per_kind > cpu.held_per_kind  # the reward model learns from hundreds of pairs
