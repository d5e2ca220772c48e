"""Replies that outlive the page, in Debian's Chromium: a real worker whose tiny model writes long replies (the
transformers engine, end-of-text ignored: a reply of 1500 tokens takes seconds), the real chat API serving a fresh
build of frontend/, driven by frontend/e2e/jobs.mjs: leave a conversation mid-reply and come back (the sidebar says
"answering…", the reply is still growing and finishes), reload mid-reply (the page follows it again and it
finishes), Stop on a re-attached reply.

Skips when Chromium, node or frontend/node_modules are missing, unless LLMCHAT_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from llmchat.api.config import ModelSettings
from tests.e2e.test_browser import CHROMIUM, FRONTEND, dist, requirements_met  # noqa: F401 (fixtures)
from tests.support.api_server import api_config, start_api
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml

MODEL = "tiny-long"
PARAMS = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 1500}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def long_worker(requirements_met, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("jobs-e2e")
    model = make_tiny_model(root / "tiny", max_position_embeddings=4096)
    entry = {
        "id": MODEL,
        "kind": "chat",
        "source": str(model),
        "prompt_style": "chat",
        "context_length": 4096,
        "default_params": dict(PARAMS),
    }
    config = write_models_yaml(
        root / "models.yaml", [entry], worker={"max_batch_size": 4, "max_queue": 16, "engine": "transformers"}
    )
    with start_worker(config) as running:
        yield running


def test_replies_outlive_the_page_in_chromium(dist, long_worker, tmp_path):  # noqa: F811
    config = api_config(
        f"sqlite:///{tmp_path / 'jobs.db'}",
        [long_worker.url],
        frontend_dist=str(dist),
        models={MODEL: ModelSettings(extra_body={"ignore_eos": True})},
    )
    with start_api(config) as api:
        env = {
            **os.environ,
            "LLMCHAT_CHROMIUM": str(CHROMIUM),
            "LLMCHAT_E2E_FAILSHOT": str(tmp_path / "failure.png"),
            "LLMCHAT_E2E_TIMEOUT_MS": "90000",
        }
        result = subprocess.run(
            ["node", "e2e/jobs.mjs", api.url], cwd=FRONTEND, env=env, capture_output=True, text=True, timeout=600
        )
    print(result.stdout)
    report = f"{result.stdout}\n{result.stderr}\nworker log tail:\n{long_worker.log()[-2000:]}"
    assert result.returncode == 0, report
    assert "all browser checks passed" in result.stdout and "not ok" not in result.stdout, report
