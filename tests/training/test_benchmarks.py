"""`llmchat evaluate --tasks`: lm-evaluation-harness tasks read from local JSONL files, scored from a real worker's
logprobs; the scores land in the report, the models' benchmark files and their cards."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.benchmark_data import QUESTIONS, write_arc
from tests.support.servers import start_worker
from tests.support.tiny_model import write_models_yaml
from tests.training.cli_helper import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # starts a worker process


@pytest.fixture(scope="module")
def bench_dirs(tmp_path_factory, tiny_model_path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    config = write_models_yaml(
        root / "configs" / "models.yaml",
        [{"id": "tiny-base", "kind": "base", "source": str(tiny_model_path), "prompt_style": "fewshot"}],
        worker={"engine": "transformers", "threads": 1, "max_batch_size": 8},  # fp32: the reference is exact
    )
    (root / "models").mkdir()
    return config, root / "models"


@pytest.fixture(scope="module")
def worker(bench_dirs):
    config, models = bench_dirs
    with start_worker(config, models_dir=models, timeout=120) as running:
        yield running


def choice_logprobs(tiny_model_path: Path) -> list[list[float]]:
    """Each question's choices' loglikelihoods, computed directly as the harness asks for them: the context
    "Question: ...\\nAnswer:", the continuation " <choice>", split where the context's own tokens end."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_path), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_path))
    scores = []
    for question, choices in QUESTIONS:
        context = f"Question: {question}\nAnswer:"
        context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
        row = []
        for choice in choices:
            whole = tokenizer(context + " " + choice, add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                logprobs = torch.log_softmax(model(torch.tensor([whole])).logits[0], dim=-1)
            row.append(sum(float(logprobs[i - 1, whole[i]]) for i in range(len(context_ids), len(whole))))
        scores.append(row)
    return scores


@pytest.fixture(scope="module")
def task_dirs(tmp_path_factory, tiny_model_path) -> tuple[Path, Path, float]:
    """Two ARC-Easy-style data folders: the answer is the tiny model's likeliest choice in one, its least likely
    in the other; and the acc_norm the first must get (the harness divides by each choice's length in characters)."""
    scores = choice_logprobs(tiny_model_path)
    likeliest = [max(range(4), key=row.__getitem__) for row in scores]
    root = tmp_path_factory.mktemp("tasks")
    write_arc(root / "right" / "arc_easy", likeliest)
    write_arc(root / "wrong" / "arc_easy", [min(range(4), key=row.__getitem__) for row in scores])
    normalised = [max(range(4), key=lambda i: row[i] / len(choices[i])) for row, (_, choices) in zip(scores, QUESTIONS)]
    acc_norm = sum(n == best for n, best in zip(normalised, likeliest)) / len(QUESTIONS)
    return root / "right", root / "wrong", acc_norm


def evaluate(worker, bench_dirs, data_dir: Path, out: Path, *extra: str) -> int:
    config, _ = bench_dirs
    return run_cli(
        [
            "evaluate",
            "--tasks",
            "arc_easy",
            "--models",
            "tiny-base",
            "--worker-url",
            worker.url,
            "--data-dir",
            str(data_dir),
            "--models-config",
            str(config),
            "--out",
            str(out),
            *extra,
        ]
    )


def test_accuracy_comes_from_the_workers_logprobs(worker, bench_dirs, task_dirs, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMCHAT_MODELS_DIR", str(bench_dirs[1]))
    right, wrong, acc_norm = task_dirs
    assert evaluate(worker, bench_dirs, right, tmp_path / "right") == 0
    scores = json.loads((tmp_path / "right" / "benchmarks.json").read_text())["scores"]["tiny-base"]["arc_easy"]
    assert scores["acc"] == 1.0 and scores["n"] == len(QUESTIONS)
    assert scores["acc_norm"] == pytest.approx(acc_norm, abs=1e-4)  # the report rounds to 4 places
    printed = capsys.readouterr().out
    assert "| arc_easy | acc | 6 | 1.000 |" in printed

    assert evaluate(worker, bench_dirs, wrong, tmp_path / "wrong", "--limit", "4") == 0
    scores = json.loads((tmp_path / "wrong" / "benchmarks.json").read_text())["scores"]["tiny-base"]["arc_easy"]
    assert scores["acc"] == 0.0 and scores["n"] == 4

    card = httpx.get(f"{worker.url}/v1/models/tiny-base/card", timeout=10).json()
    shown = card["benchmarks"]["arc_easy"]  # the latest run of the task replaced the earlier one
    assert (shown["acc"], shown["n"], shown["limit"]) == (0.0, 4, 4)
    assert shown["data"].endswith("wrong") and shown["report"].endswith("wrong")


def test_the_openvino_engine_scores_the_clear_questions_the_same(
    tmp_path_factory, tiny_model_path, task_dirs, tmp_path, monkeypatch
):
    """The default CPU engine (int8 OpenVINO, scored by its f32 pass): every question whose likeliest choice leads by
    more than 2 nats in fp32 (int8 noise is ~0.07 nats a token) is answered the same way."""
    root = tmp_path_factory.mktemp("bench-openvino")
    config = write_models_yaml(
        root / "models.yaml",
        [{"id": "tiny-base", "kind": "base", "source": str(tiny_model_path), "prompt_style": "fewshot"}],
        worker={"engine": "openvino", "threads": 1},
    )
    (root / "models").mkdir()
    monkeypatch.setenv("LLMCHAT_MODELS_DIR", str(root / "models"))
    scores = choice_logprobs(tiny_model_path)
    clear = sum(1 for row in scores if sorted(row)[-1] - sorted(row)[-2] > 2.0)
    assert clear >= 3  # the test data must have clear questions to say anything
    right, wrong, _ = task_dirs
    with start_worker(config, models_dir=root / "models", timeout=180) as worker:
        results = {}
        for name, folder in (("right", right), ("wrong", wrong)):
            assert evaluate(worker, (config, root / "models"), folder, tmp_path / name) == 0
            report = json.loads((tmp_path / name / "benchmarks.json").read_text())
            results[name] = report["scores"]["tiny-base"]["arc_easy"]["acc"]
    assert results["right"] >= clear / len(QUESTIONS)
    assert results["wrong"] <= 1 - clear / len(QUESTIONS)


def test_missing_task_data_names_the_file_it_looked_for(worker, bench_dirs, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMCHAT_MODELS_DIR", str(bench_dirs[1]))
    code = run_cli(
        [
            "evaluate",
            "--tasks",
            "arc_challenge",
            "--models",
            "tiny-base",
            "--worker-url",
            worker.url,
            "--data-dir",
            str(tmp_path),
            "--models-config",
            str(bench_dirs[0]),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert "task arc_challenge: no data" in error and str(tmp_path / "arc_challenge" / "test.jsonl") in error


def test_hellaswag_and_mmlu_files_in_their_own_columns_become_harness_tasks(tmp_path):
    from llmchat.training.benchmark_tasks import load_tasks, task_manager

    (tmp_path / "hellaswag").mkdir()
    hellaswag = {
        "ind": 4,
        "activity_label": "Baking cookies",
        "ctx_a": "A woman puts dough on a tray.",
        "ctx_b": "she",
        "ctx": "A woman puts dough on a tray. she",
        "endings": ["puts it in the oven.", "eats the tray.", "flies away.", "sings."],
        "source_id": "x",
        "split": "val",
        "split_type": "indomain",
        "label": "0",
    }
    (tmp_path / "hellaswag" / "validation.jsonl").write_text(json.dumps(hellaswag) + "\n")
    (tmp_path / "mmlu").mkdir()
    rows = [
        {"question": "2 + 2 = ?", "choices": ["4", "5", "6", "7"], "answer": 0, "subject": "abstract_algebra"},
        {
            "question": "Which bone is in the arm?",
            "choices": ["femur", "humerus", "tibia", "skull"],
            "answer": 1,
            "subject": "anatomy",
        },
        {"question": "x * 0 = ?", "choices": ["x", "1", "0", "2"], "answer": 2, "subject": "abstract_algebra"},
    ]
    (tmp_path / "mmlu" / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    tasks = load_tasks(task_manager(), ["hellaswag", "mmlu"], tmp_path)
    (swag,) = tasks["hellaswag"]
    doc = swag.eval_docs[0]
    assert swag.doc_to_text(doc) == "Baking cookies: A woman puts dough on a tray. She"  # the harness's own prompt
    assert swag.doc_to_target(doc) == 0 and len(swag.doc_to_choice(doc)) == 4
    by_name = {task.task_name: task for task in tasks["mmlu"]}
    assert sorted(by_name) == ["mmlu_abstract_algebra", "mmlu_anatomy"]
    algebra = by_name["mmlu_abstract_algebra"]
    assert [algebra.doc_to_target(d) for d in algebra.eval_docs] == [0, 2]
    assert algebra.doc_to_text(algebra.eval_docs[0]).endswith("D. 7\nAnswer:")


def test_recipe_eval_tasks_score_the_run_and_its_base_after_training(
    registry_env, trainable_tiny_path, task_data, tmp_path
):
    """`eval_tasks` in a recipe: after training, the run and its base (the adapter switched off) on the same task;
    the base's score is the one a direct computation on the base weights gives."""
    import torch

    from llmchat.models.benchmark_scores import read_scores
    from llmchat.paths import PROJECT_ROOT
    from llmchat.training.config import load_config
    from llmchat.training.finetune import run_finetune
    from tests.training.conftest import TINY_ID, tiny_train_settings

    scores = choice_logprobs(trainable_tiny_path)
    write_arc(tmp_path / "tasks" / "arc_easy", [max(range(4), key=row.__getitem__) for row in scores])
    torch.set_num_threads(1)
    settings = tiny_train_settings(task_data, run_name="tiny-bench", max_steps=6, eval_steps=0, save_steps=100)
    settings += ["eval_tasks=arc_easy", f"eval_data_dir={tmp_path / 'tasks'}", "eval_limit=5"]
    result = run_finetune(load_config(PROJECT_ROOT / "configs/train/smollm2-lora.yaml", settings))

    summary = json.loads((result.run_dir / "benchmarks.json").read_text())
    assert summary["base_model"] == TINY_ID and summary["limit"] == 5
    assert summary["base"]["arc_easy"]["acc"] == 1.0 and summary["base"]["arc_easy"]["n"] == 5
    run_acc = summary["run"]["arc_easy"]["acc"]
    assert 0.0 <= run_acc <= 1.0
    assert result.metrics["benchmarks"] == {"arc_easy": {"run": run_acc, "base": 1.0}}
    models_root = registry_env[1]
    assert read_scores(models_root, TINY_ID)["arc_easy"]["acc"] == 1.0
    assert read_scores(models_root, "tiny-bench")["arc_easy"]["acc"] == run_acc


def test_missing_eval_task_data_fails_before_training(registry_env, task_data, tmp_path):
    from llmchat.paths import PROJECT_ROOT
    from llmchat.training.benchmark_tasks import BenchmarkDataError
    from llmchat.training.config import load_config
    from llmchat.training.finetune import run_finetune
    from tests.training.conftest import tiny_train_settings

    settings = [
        *tiny_train_settings(task_data, run_name="tiny-nodata"),
        "eval_tasks=arc_easy",
        f"eval_data_dir={tmp_path}",
    ]
    with pytest.raises(BenchmarkDataError, match="arc_easy"):
        run_finetune(load_config(PROJECT_ROOT / "configs/train/smollm2-lora.yaml", settings))
    assert not (registry_env[1] / "runs" / "tiny-nodata").exists()
