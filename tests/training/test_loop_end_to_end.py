"""The whole feedback loop on real processes with a tiny model: a worker and `llmchat serve`; chat, rate, correct and
vote over HTTP; `llmchat data from-chats` in both formats; a 20-step SFT LoRA run and a 20-step DPO run on those
rows with the shipped chat recipes, trained at the same time; both runs listed by the worker and carded by the API;
a vote between the two runs counted on the leaderboard."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from llmchat.paths import PROJECT_ROOT
from llmchat.training.data import load_examples, load_preferences
from tests.support.api_server import start_serve_process
from tests.support.servers import start_worker, worker_env
from tests.support.tiny_model import write_models_yaml

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # four kinds of process, two trainings: about a minute

PARAMS = {"temperature": 0.0, "max_tokens": 8}
TRAIN = [
    "max_steps=20",
    "num_epochs=1",
    "batch_size=2",
    "torch_threads=1",
    "logging_steps=5",
    "eval_steps=10",
    "save_steps=100",
    "learning_rate=1e-2",
    "cutoff_len=256",
    "base_model=tiny-chat",
]
PROMPTS = ["What is 2 + 3?", "Name a colour.", "Say hello.", "What is the capital of France?"]


@pytest.fixture(scope="module")
def registry(trainable_tiny_path, tmp_path_factory) -> tuple[Path, Path]:
    """(config dir, models dir): the tiny model as `tiny-chat` (chat template) and `tiny-alpaca` (same weights)."""
    root = tmp_path_factory.mktemp("loop")
    config_dir, models_dir = root / "configs", root / "models"
    shutil.copytree(PROJECT_ROOT / "configs" / "prompts", config_dir / "prompts")
    models_dir.mkdir()
    entries = [
        {
            "id": f"tiny-{style}",
            "kind": style,
            "source": str(trainable_tiny_path),
            "prompt_style": style,
            "context_length": 512,
            "default_params": PARAMS,
        }
        for style in ("chat", "alpaca")
    ]
    write_models_yaml(
        config_dir / "models.yaml",
        entries,
        worker={"max_batch_size": 4, "max_queue": 32, "threads": 1, "engine": "transformers"},
    )
    return config_dir, models_dir


def cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "llmchat.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen, timeout: float = 240) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def ask(http: httpx.Client, message: str, **body) -> dict:
    response = http.post("/api/chat", json={"message": message, "params": PARAMS, **body})
    assert response.status_code == 200, response.text
    return response.json()


def compare_and_vote(http: httpx.Client, left: str, right: str, prompt: str, winner: str) -> dict:
    session = http.post("/api/conversations", json={"kind": "compare", "models": [left, right]}).json()["id"]
    replies = [
        ask(http, prompt, model=model, conversation_id=session, column=column)["message"]
        for column, model in enumerate((left, right))
    ]
    response = http.post(
        "/api/votes", json={"left_message_id": replies[0]["id"], "right_message_id": replies[1]["id"], "winner": winner}
    )
    assert response.status_code == 201, response.text
    return response.json()["vote"]


def test_chats_to_trained_runs_to_the_leaderboard(registry, tmp_path):
    config_dir, models_dir = registry
    env = worker_env({"LLMCHAT_CONFIG_DIR": str(config_dir), "OMP_NUM_THREADS": "1"}, models_dir=models_dir)
    database = f"sqlite:///{tmp_path / 'chats.db'}"
    with (
        start_worker(config_dir / "models.yaml", models_dir=models_dir, env=env) as worker,
        start_serve_process(
            {
                "database_url": database,
                "worker_urls": [worker.url],
                "models_cache_s": 0.5,
                "prompts_dir": str(config_dir / "prompts"),
                "frontend_dist": "/nonexistent",
                "limits": {"rate_limit_requests": 0},
            }
        ) as api,
        httpx.Client(base_url=api.url, timeout=60) as http,
    ):
        # chat, rate, correct: every reply up, or down with a better answer
        conversation = None
        for number, prompt in enumerate(PROMPTS):
            turn = ask(http, prompt, model="tiny-chat", **({"conversation_id": conversation} if conversation else {}))
            conversation = turn["conversation_id"]
            body = {"rating": "up"} if number % 2 else {"rating": "down", "correction": f"A better answer {number}."}
            assert http.put(f"/api/messages/{turn['message']['id']}/feedback", json=body).status_code == 200
        # vote between the two served models
        for prompt in PROMPTS[:3]:
            compare_and_vote(http, "tiny-chat", "tiny-alpaca", prompt, "left")

        # the operator exports both formats (from the database, as two processes)
        alpaca, preference = tmp_path / "alpaca.jsonl", tmp_path / "preference.jsonl"
        exports = [
            cli(
                [
                    "data",
                    "from-chats",
                    "--database-url",
                    database,
                    "--out",
                    str(out),
                    "--format",
                    name,
                    "--config",
                    str(recipe),
                    "--set",
                    "base_model=tiny-chat",
                    "--set",
                    "cutoff_len=256",
                ],
                env,
            )
            for out, name, recipe in (
                (alpaca, "alpaca", "configs/train/smollm2-chats-lora.yaml"),
                (preference, "preference", "configs/train/smollm2-chats-dpo.yaml"),
            )
        ]
        reports = [finished(process) for process in exports]
        assert "wrote 4 alpaca rows" in reports[0]  # two upvoted, two corrected
        assert len(load_examples(alpaca)) == 4
        rows = load_preferences(preference)
        assert sum(1 for r in rows if r["origin"] == "correction") == 2
        assert all(r["chosen_model"] == "tiny-chat" for r in rows if r["origin"] == "vote")

        # SFT on the alpaca rows and DPO on the preference rows, with the shipped recipes, at the same time
        runs = [
            cli(
                [
                    "finetune",
                    "--config",
                    recipe,
                    "--set",
                    f"data={data}",
                    "--set",
                    f"run_name={name}",
                    *[arg for setting in TRAIN for arg in ("--set", setting)],
                ],
                env,
            )
            for recipe, data, name in (
                ("configs/train/smollm2-chats-lora.yaml", alpaca, "chat-sft"),
                ("configs/train/smollm2-chats-dpo.yaml", preference, "chat-dpo"),
            )
        ]
        for process in runs:
            finished(process)

        listed = {m["id"]: m for m in httpx.get(f"{worker.url}/v1/models", timeout=30).json()["data"]}
        for run, method in (("chat-sft", "lora"), ("chat-dpo", "dpo")):
            assert listed[run]["origin"] == "runs" and listed[run]["created"]
            card = http.get(f"/api/models/{run}/card").json()  # through the API, from the worker
            assert card["run"]["method"] == method and card["run"]["recipe"]["max_steps"] == 20
            assert any("loss" in point for point in card["run"]["loss_curve"])
        assert {"chat-sft", "chat-dpo"} <= {m["id"] for m in http.get("/api/models").json()["models"]}

        # a vote between the two new runs counts on the leaderboard
        vote = compare_and_vote(http, "chat-sft", "chat-dpo", "Say hello.", "right")
        assert (vote["left"]["model"], vote["right"]["model"]) == ("chat-sft", "chat-dpo")
        board = {row["model"]: row for row in http.get("/api/leaderboard").json()["models"]}
        assert (board["chat-dpo"]["wins"], board["chat-sft"]["losses"]) == (1, 1)
        assert board["chat-dpo"]["rating"] > board["chat-sft"]["rating"]
        assert board["tiny-chat"]["battles"] == 3 and board["tiny-chat"]["thumbs_up"] == 2
    manifest = json.loads((models_dir / "runs" / "chat-dpo" / "llmchat_run.json").read_text())
    assert manifest["method"] == "dpo" and yaml.safe_load(
        (models_dir / "runs" / "chat-sft" / "config.yaml").read_text()
    )["data"] == str(alpaca)
