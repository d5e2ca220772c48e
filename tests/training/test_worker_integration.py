"""A finished run shows up in a real worker's /v1/models, and `llmchat evaluate` scores it through that worker."""

import json

import httpx
import pytest

from tests.support.servers import start_worker
from tests.training.cli_helper import run_cli
from tests.training.conftest import TINY_ID

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # starts a worker process (a few seconds)


@pytest.fixture(scope="module")
def worker(lora_run, dpo_run, registry_dirs):
    config_dir, models_dir = registry_dirs
    with start_worker(config_dir / "models.yaml", models_dir=models_dir, timeout=120) as process:
        yield process


def test_finished_run_is_listed_by_the_worker(worker):
    rows = {row["id"]: row for row in httpx.get(f"{worker.url}/v1/models", timeout=10).json()["data"]}
    assert rows["tiny-lora"]["kind"] == "lora"
    assert rows["tiny-lora"]["prompt_style"] == "alpaca"
    assert rows["tiny-lora"]["base_model"] == TINY_ID


def test_dpo_run_is_listed_and_served_like_a_lora_run(worker):
    """The worker's discovery reads the DPO run's manifest (kind lora, path adapter) like an SFT LoRA run's."""
    rows = {row["id"]: row for row in httpx.get(f"{worker.url}/v1/models", timeout=10).json()["data"]}
    assert (rows["tiny-dpo"]["kind"], rows["tiny-dpo"]["prompt_style"], rows["tiny-dpo"]["base_model"]) == (
        "lora",
        "alpaca",
        TINY_ID,
    )
    body = {
        "model": "tiny-dpo",
        "prompt": "### Instruction:\nWhat is 2 + 3?\n\n### Response:\n",
        "max_tokens": 4,
        "temperature": 0.0,
    }
    response = httpx.post(f"{worker.url}/v1/completions", json=body, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "tiny-dpo" and response.json()["usage"]["completion_tokens"] > 0


def test_evaluate_through_the_worker_writes_a_side_by_side_report(worker, lora_run, registry_env, tmp_path):
    config_dir, _ = registry_env
    out = tmp_path / "report"
    code = run_cli(
        [
            "evaluate",
            "--models",
            f"{TINY_ID},tiny-lora",
            "--worker-url",
            worker.url,
            "--limit",
            "5",
            "--max-tokens",
            "6",
            "--out",
            str(out),
            "--models-config",
            str(config_dir / "models.yaml"),
        ]
    )
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    test_split = [json.loads(line) for line in (lora_run / "test.jsonl").read_text().splitlines()][:5]
    assert report["meta"]["n"] == 5 and report["meta"]["data"].endswith("test.jsonl")  # the run's own test split
    assert [e["reference"] for e in report["examples"]] == [r["output"] for r in test_split]
    assert [e["phrasing"] for e in report["examples"]] == [r["phrasing"] for r in test_split]
    for model, style in ((TINY_ID, "chat"), ("tiny-lora", "alpaca")):
        answers = report["answers"][model]
        assert len(answers) == 5  # in the order of report["examples"]
        assert not any(a.get("error") for a in answers)
        summary = report["models"][model]["summary"]
        assert summary["exact_match"] == 100.0 * sum(a["exact"] for a in answers) / 5
        assert report["models"][model]["prompt_style"] == style
        assert report["models"][model]["loss"]["eval_loss"] > 0
        for phrasing, part in summary["by_phrasing"].items():  # each split scored on its own rows
            rows = [a for a, e in zip(answers, report["examples"]) if e["phrasing"] == phrasing]
            assert part["n"] == len(rows)
            assert part["exact_match"] == round(100 * sum(a["exact"] for a in rows) / len(rows), 1)
    # the adapter changes the model: the local answer losses of base and run differ
    assert report["models"][TINY_ID]["loss"] != report["models"]["tiny-lora"]["loss"]
    assert set(report["models"]["tiny-lora"]["summary"]["by_phrasing"]) == {"seen", "unseen"}
    markdown = (out / "report.md").read_text()
    assert "| tiny-lora | alpaca |" in markdown and "## Misses" in markdown
    assert "seen phrasings | unseen phrasings |" in markdown and f"## Exact-match gain over {TINY_ID}" in markdown


def test_evaluate_unknown_model_is_a_clear_error(worker, tmp_path, capsys, task_data):
    code = run_cli(
        [
            "evaluate",
            "--models",
            "nope",
            "--worker-url",
            worker.url,
            "--data",
            str(task_data),
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 2
    assert "does not serve nope" in capsys.readouterr().err


def test_runs_are_listed_with_origin_and_finishing_time(worker, lora_run):
    rows = {row["id"]: row for row in httpx.get(f"{worker.url}/v1/models", timeout=10).json()["data"]}
    manifest = json.loads((lora_run / "llmchat_run.json").read_text())
    assert (rows["tiny-lora"]["origin"], rows["tiny-lora"]["created"]) == ("runs", manifest["created"])
    assert (rows[TINY_ID]["origin"], rows[TINY_ID]["created"]) == ("config", None)


def test_a_run_card_has_its_recipe_loss_curve_and_last_evaluation(worker, lora_run, dpo_run, registry_env, tmp_path):
    """`registry_env`: evaluate finds the runs' folders (to write evaluation.json) in the tiny registry."""
    card = httpx.get(f"{worker.url}/v1/models/tiny-dpo/card", timeout=10).json()
    assert (card["kind"], card["base_model"], card["prompt_style"], card["origin"]) == (
        "lora",
        TINY_ID,
        "alpaca",
        "runs",
    )
    assert card["run"]["method"] == "dpo" and card["run"]["recipe"]["max_steps"] == 12
    steps = [point["step"] for point in card["run"]["loss_curve"]]
    assert steps == sorted(steps) and any("eval_loss" in p for p in card["run"]["loss_curve"])
    assert any("loss" in p for p in card["run"]["loss_curve"])
    base = httpx.get(f"{worker.url}/v1/models/{TINY_ID}/card", timeout=10).json()
    assert (base["origin"], base["run"]) == ("config", None) and base["engine"] in ("openvino", "transformers")
    assert httpx.get(f"{worker.url}/v1/models/nope/card", timeout=10).status_code == 404

    code = run_cli(
        [
            "evaluate",
            "--models",
            f"{TINY_ID},tiny-lora",
            "--worker-url",
            worker.url,
            "--limit",
            "3",
            "--max-tokens",
            "4",
            "--out",
            str(tmp_path / "report"),
            "--no-perplexity",
        ]
    )
    assert code == 0
    evaluation = httpx.get(f"{worker.url}/v1/models/tiny-lora/card", timeout=10).json()["run"]["evaluation"]
    assert evaluation["model"] == "tiny-lora" and evaluation["n"] == 3
    assert set(evaluation["models"]) == {TINY_ID, "tiny-lora"}  # what it was compared with
    assert evaluation["report"].endswith("report") and "exact_match" in evaluation["models"]["tiny-lora"]["summary"]
    assert not (tmp_path / "report" / "evaluation.json").exists()
