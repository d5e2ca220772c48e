"""The run queue's pure parts: the New run form's command and checks, progress with its ETA across a resume, the
log tail of a progress bar, and the config's ranges (the same for `finetune --set`)."""

from __future__ import annotations

import re

import pytest

from llmchat.training.config import RANGES, TrainConfig, load_config
from llmchat.training.runner.form import FormError, methods, plan_run, settings_schema
from llmchat.training.runner.progress import log_tail, progress
from tests.support.run_queue import PRESET, make_queue_dirs


@pytest.fixture
def presets(registry_dirs, task_data, tmp_path, monkeypatch):
    config_dir, _ = make_queue_dirs(registry_dirs[0], task_data, tmp_path)
    monkeypatch.setenv("LLMCHAT_CONFIG_DIR", str(config_dir))
    return config_dir / "train"


def test_the_command_names_the_preset_and_only_what_differs_from_it(presets):
    plan = plan_run(PRESET, {"run_name": "r1", "max_steps": 20, "validation_size": 8, "learning_rate": 0.01})
    assert (
        plan.command
        == f"llmchat finetune --config {(presets / 'tiny-lora.yaml').resolve()} --set run_name=r1 --set learning_rate=0.01"
    )
    assert (plan.config.run_name, plan.config.max_steps, plan.config.learning_rate) == ("r1", 20, 0.01)
    assert load_config(presets / "tiny-lora.yaml", plan.argv[3::2]) == plan.config  # what finetune will read


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"learning_rate": 2.0}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_steps": "many"}, "max_steps"),
        ({"method": "rlhf"}, "method"),
        ({"colour": "blue"}, "colour"),
        ({"base_model": "hf:not a repo"}, "base_model"),
    ],
)
def test_a_bad_value_names_its_field(presets, values, field):
    with pytest.raises(FormError) as refused:
        plan_run(PRESET, values)
    assert refused.value.field == field and str(refused.value).startswith(field)


def test_an_unknown_preset_is_named(presets):
    with pytest.raises(FormError) as refused:
        plan_run("../app", {})
    assert refused.value.field == "preset"


def test_methods_defaults_and_ranges_come_from_the_training_config():
    assert {"full", "lora", "dpo"} <= set(methods())  # the config's `method` type: a method added there shows here
    for setting in settings_schema():
        assert setting["default"] == getattr(TrainConfig(), setting["name"])
        assert (setting["min"], setting["max"]) == RANGES[setting["name"]]
        assert setting["min"] <= setting["default"] <= setting["max"]


def test_finetune_set_is_held_to_the_same_ranges():
    with pytest.raises(ValueError, match=re.escape("lora_dropout: 1.5 is outside the allowed range 0 to 0.99")):
        load_config(None, ["lora_dropout=1.5"])


def test_progress_and_eta_follow_the_pace_of_the_current_attempt():
    first = [{"step": s, "elapsed_s": 2.0 * s, "max_steps": 20} for s in range(1, 6)]  # 2 s a step
    assert progress(first) == {"step": 5, "max_steps": 20, "epoch": None, "elapsed_s": 10.0, "eta_s": 30.0}
    resumed = first + [{"step": 5 + s, "elapsed_s": 5.0 + 0.5 * s, "max_steps": 20} for s in range(1, 5)]
    assert progress(resumed)["eta_s"] == 5.5  # 0.5 s a step since the resume (steps 6 to 9), 11 steps left
    assert progress([])["step"] == 0 and progress([])["eta_s"] is None


def test_the_log_tail_splits_a_progress_bar_into_its_updates(tmp_path):
    log = tmp_path / "output.log"
    log.write_text("$ llmchat finetune --config x\nloading\r  5%|#  | 1/20\r 10%|## | 2/20\n\x1b[31mdone\x1b[0m\n")
    assert log_tail(log, 3) == ["  5%|#  | 1/20", " 10%|## | 2/20", "done"]
    assert log_tail(tmp_path / "missing.log") == []
