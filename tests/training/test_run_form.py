"""The run queue's pure parts: the New run form's command and checks, progress with its ETA across a resume, the
log tail of a progress bar, the config's ranges (the same for `finetune --set`), and Evaluate's command and what
the run page reads back from an evaluation (its benchmark scores beside the base's, or that it failed)."""

from __future__ import annotations

import json
import re

import pytest

from llmchat.models.benchmark_scores import record_scores
from llmchat.training.config import RANGES, TrainConfig, load_config
from llmchat.training.runner.evaluation import LOG_FILE, STATE_FILE, evaluation_argv, evaluation_state
from llmchat.training.runner.form import FormError, methods, plan_run, settings_schema
from llmchat.training.runner.jobs import FINISHED, Job
from llmchat.training.runner.progress import log_tail, progress
from llmchat.training.runner.queue import RunQueue
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


def test_the_log_tail_shows_each_progress_bar_in_its_last_state(tmp_path):
    """What the Trainer's tqdm writes (taken from a run's output.log): bar updates with carriage returns, a log line
    written over the bar (tqdm.write: clear, print, redraw), a nested evaluation bar that moves up with ESC [ A."""
    log = tmp_path / "output.log"
    clear = "\r" + " " * 47 + "\r"
    log.write_bytes(
        (
            "$ llmchat finetune --config x\r\n"
            "\r  3%|3         | 1/30 [00:00<00:01,  8.1it/s]\r  7%|6         | 2/30 [00:00<00:01,  8.2it/s]"
            f"{clear}{{'loss': '3.5', 'epoch': '2'}}\n\r  7%|6         | 2/30 [00:00<00:01,  8.2it/s]\n"
            "\r  0%|          | 0/1 [00:00<?, ?it/s]\x1b[A" + clear + "\n\r" + " " * 37 + "\r\x1b[A"
            "{'eval_loss': '16.0', 'epoch': '2'}\n\r  7%|6         | 2/30 [00:00<00:01,  8.2it/s]\n"
            "\r100%|##########| 1/1 [00:00<00:00, 1470.1it/s]\x1b[A\n\r" + " " * 47 + "\x1b[A"
            "\r 10%|#         | 3/30 [00:00<00:01,  7.7it/s]\n\x1b[31mdone\x1b[0m\n"
            "eval\r 50%|##  | 1/2\r100%|####| 2/2\r"  # a bar still running: no newline yet
        ).encode()
    )
    assert log_tail(log) == [
        "$ llmchat finetune --config x",
        "{'loss': '3.5', 'epoch': '2'}",
        "{'eval_loss': '16.0', 'epoch': '2'}",  # the evaluation bar cleared itself (leave=False)
        " 10%|#         | 3/30 [00:00<00:01,  7.7it/s]",
        "done",
        "100%|####| 2/2",
    ]
    assert log_tail(log, 2) == ["done", "100%|####| 2/2"]
    assert log_tail(tmp_path / "missing.log") == []


FINISHED_RUN = Job(id="r1", argv=[], recipe={"base_model": "tiny-chat"}, status=FINISHED)


def test_evaluate_scores_the_run_beside_its_base_on_its_test_split_or_on_the_ticked_benchmarks(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCHAT_DATA_DIR", str(tmp_path / "data"))
    held_out = ["--models", "tiny-chat,r1", "--worker-url", "http://w", "--limit", "40"]
    assert evaluation_argv(FINISHED_RUN, "http://w", 40, []) == held_out
    benchmarks = evaluation_argv(FINISHED_RUN, "http://w", 40, ["arc_easy", "mmlu", "arc_easy"])
    assert benchmarks == [*held_out, "--tasks", "arc_easy,mmlu", "--data-dir", str(tmp_path / "data" / "benchmarks")]


def test_an_evaluation_without_its_scores_failed_and_one_with_them_shows_them_beside_the_base(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMCHAT_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data" / "benchmarks" / "arc_easy").mkdir(parents=True)
    queue = RunQueue(tmp_path / "models", slots=1)
    folder = queue.store.folder("r1")
    folder.mkdir(parents=True)
    started = {"pid": None, "command": "llmchat evaluate ...", "tasks": ["arc_easy"], "started": "20261203-130000"}
    (folder / STATE_FILE).write_text(json.dumps(started))
    (folder / LOG_FILE).write_text("loading\nerror: task arc_easy: data/arc_easy/test.jsonl is missing\n")

    state = evaluation_state(queue, FINISHED_RUN)
    assert state["failed"] and not state["running"] and state["benchmarks"] is None
    assert state["log"][-1] == "error: task arc_easy: data/arc_easy/test.jsonl is missing"
    assert [task["name"] for task in state["tasks"] if task["data"]] == ["arc_easy"]  # the only data folder there
    record_scores(queue.models_root, "r1", {"arc_easy": {"acc": 0.5, "n": 6, "created": "20261203-125959"}})
    assert evaluation_state(queue, FINISHED_RUN)["failed"]  # a score from before this evaluation started

    run_score = {"acc": 0.5, "n": 6, "created": "20261203-130005"}
    base_score = {"acc": 0.25, "n": 6, "created": "20261203-130009"}
    record_scores(queue.models_root, "r1", {"arc_easy": run_score})
    record_scores(queue.models_root, "tiny-chat", {"arc_easy": base_score, "mmlu": {"acc": 0.3, "n": 4}})
    state = evaluation_state(queue, FINISHED_RUN)
    assert not state["failed"] and state["log"] == []
    assert state["benchmarks"] == {
        "tasks": ["arc_easy"],
        "base_model": "tiny-chat",
        "run": {"arc_easy": run_score},
        "base": {"arc_easy": base_score},  # only the tasks the run has
    }
