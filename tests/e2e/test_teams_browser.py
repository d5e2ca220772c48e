"""Sign-in, API keys, usage and the Admin page in Debian's Chromium (frontend/e2e/teams.mjs): a real worker (tiny
random model) and the chat API with identity: accounts and open sign-up, serving a fresh build of frontend/.

Skips when Chromium, node or frontend/node_modules are missing, unless LLMCHAT_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from llmchat.api.config import AccountSettings
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_browser import BROWSER_RUN_TIMEOUT_S
from tests.support.api_server import api_config, start_api
from tests.support.browser_script import run_browser_script
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def worker(requirements_met, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("teams-models")
    entry = {
        "id": "tiny-chat",
        "kind": "chat",
        "source": str(make_tiny_model(root / "tiny")),
        "prompt_style": "chat",
        "context_length": 512,
        "default_params": {"temperature": 0.7, "top_p": 0.9, "max_tokens": 8},
    }
    with start_worker(write_models_yaml(root / "models.yaml", [entry], worker={"max_batch_size": 2})) as running:
        yield running


def test_sign_in_keys_usage_and_admin_in_chromium(dist, worker, tmp_path):
    config = replace(
        api_config(f"sqlite:///{tmp_path / 'teams.db'}", [worker.url], frontend_dist=str(dist)),
        identity="accounts",
        accounts=AccountSettings(signup="open"),
    )
    shots = os.environ.get("LLMCHAT_TEAMS_SHOTS", "")  # a folder: the run also retakes the teams-*.png there
    with start_api(config) as api:
        result = run_browser_script(
            "teams.mjs", api.url, CHROMIUM, tmp_path / "failure.png", shots, BROWSER_RUN_TIMEOUT_S
        )
    report = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    assert "all teams browser checks passed" in result.stdout and "not ok" not in result.stdout, report
