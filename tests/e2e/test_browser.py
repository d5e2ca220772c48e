"""The web app end to end in Debian's Chromium: real worker (tiny random model, a LoRA on it, and a fine-tuning run
of it made by `run_finetune` and scored by `llmchat evaluate` through the worker), real chat API serving a fresh
build of frontend/, driven by frontend/e2e/chat.mjs (playwright-core, no downloaded browser): chat basics, versions
and branches, Continue, honest states, search, compare sessions, feedback on replies, named and blind votes, the
leaderboard and model cards, keyboard, and axe-core on every main screen (no serious or critical violation).

Skips when Chromium, node or frontend/node_modules are missing, unless LLMCHAT_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM, FRONTEND
from tests.support.api_server import api_config, start_api
from tests.support.servers import PROJECT_ROOT, start_worker
from tests.support.tiny_model import make_tiny_lora, make_tiny_model, write_models_yaml
from tests.training.cli_helper import run_cli
from tests.training.conftest import tiny_train_settings

PARAMS = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 24}
BROWSER_RUN_TIMEOUT_S = 540

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


RUN_ID = "tiny-run"


def _finetune(root: Path, models_dir: Path) -> Path:
    """A few-second LoRA run of the tiny model on the shipped task generator: models/runs/tiny-run with its recipe,
    log (loss curve) and test split, as `llmchat finetune` leaves it."""
    from llmchat.training.config import load_config
    from llmchat.training.datagen import make_examples, write_jsonl
    from llmchat.training.finetune import run_finetune

    data = write_jsonl(make_examples(64, seed=3, unseen=16), root / "tasks.jsonl")
    config = load_config(
        PROJECT_ROOT / "configs/train/smollm2-lora.yaml",
        tiny_train_settings(data, run_name=RUN_ID, max_steps=20, eval_steps=10, save_steps=10, test_size=16),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMCHAT_CONFIG_DIR", str(root))
        patch.setenv("LLMCHAT_MODELS_DIR", str(models_dir))
        return run_finetune(config).run_dir


def _evaluate(worker_url: str, root: Path, models_dir: Path) -> None:
    """`llmchat evaluate` through the worker: the run keeps the summary (evaluation.json) its card shows."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMCHAT_CONFIG_DIR", str(root))
        patch.setenv("LLMCHAT_MODELS_DIR", str(models_dir))
        code = run_cli(
            [
                "evaluate",
                "--models",
                f"tiny-chat,{RUN_ID}",
                "--worker-url",
                worker_url,
                "--max-tokens",
                "4",
                "--out",
                str(root / "report"),
                "--no-perplexity",
            ]
        )
    assert code == 0
    assert (models_dir / "runs" / RUN_ID / "evaluation.json").is_file()


@pytest.fixture(scope="module")
def worker(requirements_met, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("e2e-models")
    models_dir = root / "models"
    models_dir.mkdir()
    shutil.copytree(PROJECT_ROOT / "configs" / "prompts", root / "prompts")
    model = make_tiny_model(root / "tiny")
    adapter = make_tiny_lora(model, root / "tiny-lora")
    entries = [
        {
            "id": "tiny-chat",
            "kind": "chat",
            "source": str(model),
            "prompt_style": "chat",
            "context_length": 512,
            "default_params": dict(PARAMS),
        },
        {
            "id": "tiny-lora",
            "kind": "lora",
            "base": "tiny-chat",
            "adapter": str(adapter),
            "prompt_style": "chat",
            "context_length": 512,
            "default_params": dict(PARAMS),
        },
    ]
    config = write_models_yaml(root / "models.yaml", entries, worker={"max_batch_size": 4, "max_queue": 16})
    _finetune(root, models_dir)
    with start_worker(config, models_dir=models_dir) as running:
        _evaluate(running.url, root, models_dir)
        # the evaluation loaded the run; unloaded, its first reply in the browser shows "Loading tiny-run…"
        unloaded = httpx.post(f"{running.url}/v1/models/{RUN_ID}/unload", json={}, timeout=60)
        assert unloaded.status_code == 200 and RUN_ID in unloaded.json()["unloaded"], unloaded.text
        yield running


def test_chat_in_chromium(dist, worker, tmp_path):
    from llmchat.api.config import TitleSettings

    # model titles: the suite checks that the title written in the background reaches the sidebar and the export;
    # no admins: the browser is a plain user (cards must show it no server paths)
    config = api_config(
        f"sqlite:///{tmp_path / 'e2e.db'}",
        [worker.url],
        frontend_dist=str(dist),
        titles=TitleSettings(source="model"),
        admin_ips=(),
    )
    with start_api(config) as api:
        run_browser_script("e2e/chat.mjs", api.url, worker, tmp_path)


def run_browser_script(script: str, url: str, worker, tmp_path: Path, timeout_ms: int = 60000) -> None:
    """`node <script> <url>` in frontend/ (Debian's Chromium); every step must pass."""
    env = {
        **os.environ,
        "LLMCHAT_CHROMIUM": str(CHROMIUM),
        "LLMCHAT_E2E_FAILSHOT": str(tmp_path / "failure.png"),
        "LLMCHAT_E2E_TIMEOUT_MS": str(timeout_ms),
    }
    result = subprocess.run(
        ["node", script, url], cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=BROWSER_RUN_TIMEOUT_S
    )
    print(result.stdout)  # the step list, shown with `pytest -s`
    report = f"{result.stdout}\n{result.stderr}\nworker log tail:\n{worker.log()[-2000:]}"
    assert result.returncode == 0, report
    assert "all browser checks passed" in result.stdout, report
    assert "not ok" not in result.stdout, report
