"""The Data page in Debian's Chromium (frontend/e2e/data.mjs): a real worker (tiny random model) and the chat API
(ip mode, so the browser at 127.0.0.1 is an admin) serving a fresh build of frontend/, with a generated dataset in
a scratch data/, recipes on the tiny model and a database holding rated replies.

Skips when Chromium, node or frontend/node_modules are missing, unless LLMCHAT_REQUIRE_BROWSER=1 (then it fails).
LLMCHAT_DATA_SHOTS=docs/screenshots also retakes data-light.png, data-dark.png and data-phone.png there.
"""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from llmchat.paths import PROJECT_ROOT
from llmchat.store import ChatStore, FeedbackStore, open_database
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_browser import BROWSER_RUN_TIMEOUT_S
from tests.support.api_server import api_config, start_api
from tests.support.browser_script import run_browser_script
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny(requirements_met, tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("data-models") / "tiny")


@pytest.fixture(scope="module")
def worker(tiny, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    entry = {"id": "tiny-chat", "kind": "chat", "source": str(tiny), "prompt_style": "chat", "context_length": 512}
    config = write_models_yaml(tmp_path_factory.mktemp("data-worker") / "models.yaml", [entry])
    with start_worker(config) as running:
        yield running


def _studio_folders(root, tiny, monkeypatch) -> None:
    """configs/ (the project's prompts, recipes on the tiny model) and data/ (a generated dataset) for the API."""
    from llmchat.training.datagen import make_examples, write_jsonl

    configs = root / "configs"
    shutil.copytree(PROJECT_ROOT / "configs" / "prompts", configs / "prompts")
    (configs / "train").mkdir()
    for name, method, cutoff in (
        ("smollm2-lora", "lora", 96),
        ("short", "lora", 24),
        ("smollm2-chats-kto", "kto", 256),
    ):
        recipe = {"base_model": str(tiny), "method": method, "cutoff_len": cutoff}
        recipe |= {"validation_size": 4, "test_size": 0.25, "seed": 1}
        (configs / "train" / f"{name}.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    write_jsonl(make_examples(36, seed=2, unseen=4), root / "data" / "generated" / "alpaca_tasks.jsonl")
    monkeypatch.setenv("LLMCHAT_CONFIG_DIR", str(configs))
    monkeypatch.setenv("LLMCHAT_DATA_DIR", str(root / "data"))


def _rated_replies(database_url: str) -> None:
    """A downvoted reply with a better answer, and one reply nobody rated."""
    database = open_database(database_url)
    store, feedback = ChatStore(database), FeedbackStore(database)
    conversation = store.create_conversation("ip:127.0.0.1", "math", "tiny-chat").id
    prompt = store.add_message(conversation, "user", "What is 2 + 2?", model="tiny-chat")
    reply = store.add_message(conversation, "assistant", "5", model="tiny-chat", parent_id=prompt.id, params={})
    feedback.set_feedback("ip:127.0.0.1", reply.id, "down", "4")
    follow_up = store.add_message(conversation, "user", "Thanks", model="tiny-chat", parent_id=reply.id)
    store.add_message(
        conversation, "assistant", "You are welcome.", model="tiny-chat", parent_id=follow_up.id, params={}
    )
    database.dispose()


def test_data_page_in_chromium(dist, worker, tiny, tmp_path, monkeypatch):
    _studio_folders(tmp_path, tiny, monkeypatch)
    database_url = f"sqlite:///{tmp_path / 'data.db'}"
    config = api_config(database_url, [worker.url], frontend_dist=str(dist))
    shots = os.environ.get("LLMCHAT_DATA_SHOTS", "")
    with start_api(config) as api:
        _rated_replies(database_url)
        result = run_browser_script(
            "data.mjs",
            api.url,
            CHROMIUM,
            tmp_path / "failure.png",
            os.path.abspath(shots) if shots else "",
            BROWSER_RUN_TIMEOUT_S,
        )
    report = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    assert "all data browser checks passed" in result.stdout and "not ok" not in result.stdout, report
