"""Training runs in Debian's Chromium (frontend/e2e/runs.mjs): the New run form with its command, a LoRA run of
the tiny model started from it, its run page drawing the loss points as they arrive over SSE, stopped mid-way and
resumed to the end; Evaluate on its test split and on ARC-Easy (six questions in data/benchmarks), the GGUF Q8_0 +
Modelfile export from the run page, a blind compare and Chat with it (the worker serves the finished run). Real
processes throughout: the worker, the chat API serving a fresh build of frontend/, the run's own shepherd and
`llmchat finetune`, `llmchat evaluate` and `llmchat export`.

Skips when Chromium, node or frontend/node_modules are missing, unless LLMCHAT_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_browser import BROWSER_RUN_TIMEOUT_S
from tests.support.api_server import api_config, start_api
from tests.support.benchmark_data import QUESTIONS, write_arc
from tests.support.browser_script import run_browser_script
from tests.support.run_queue import make_queue_dirs
from tests.support.servers import start_worker
from tests.training.conftest import registry_dirs, task_data, trainable_tiny_path  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def queue_worker(requirements_met, registry_dirs, task_data, tmp_path, monkeypatch):  # noqa: F811
    config_dir, models_dir = make_queue_dirs(registry_dirs[0], task_data, tmp_path / "queue")
    monkeypatch.setenv("LLMCHAT_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("LLMCHAT_MODELS_DIR", str(models_dir))
    with start_worker(config_dir / "models.yaml", models_dir=models_dir) as running:
        yield running


def test_new_run_form_to_a_run_page_with_live_loss_stop_resume_evaluate_and_export(
    dist, queue_worker, tmp_path, monkeypatch
):
    config = api_config(f"sqlite:///{tmp_path / 'runs.db'}", [queue_worker.url], frontend_dist=str(dist))
    shots = os.environ.get("LLMCHAT_RUNS_SHOTS", "")  # a folder: the run also retakes the runs-*.png there
    data = tmp_path / "data"
    write_arc(data / "benchmarks" / "arc_easy", [0] * len(QUESTIONS))  # the first choice is the right one
    monkeypatch.setenv("LLMCHAT_DATA_DIR", str(data))  # the API (in this process) and its `llmchat evaluate`
    with start_api(config) as api:
        result = run_browser_script(
            "runs.mjs", api.url, CHROMIUM, tmp_path / "failure.png", shots, BROWSER_RUN_TIMEOUT_S
        )
    report = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    assert "all runs browser checks passed" in result.stdout and "not ok" not in result.stdout, report
