"""A model the worker has not loaded yet: /api/models says so, and a chat to it waits for the load instead of
failing, even when the load takes longer than the worker holds a request (503 model_loading, asked again)."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import model_entries, read_sse
from tests.support.api_server import api_config, start_api
from tests.support.servers import start_worker
from tests.support.tiny_model import write_models_yaml
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)


def states(client: httpx.Client) -> dict[str, tuple[bool | None, bool]]:
    return {model["id"]: (model["loaded"], model["loading"]) for model in client.get("/api/models").json()["models"]}


def test_a_chat_waits_for_a_model_that_loads_on_demand(tiny_model, tmp_path):
    # load_timeout_s 0.01: the worker answers 503 model_loading at once and the API must ask again until it loaded
    config = write_models_yaml(
        tmp_path / "models.yaml", model_entries(tiny_model), worker={"preload": False, "load_timeout_s": 0.01}
    )
    with start_worker(config) as worker:
        with start_api(api_config(f"sqlite:///{tmp_path / 'api.db'}", [worker.url])) as api:
            with httpx.Client(base_url=api.url, timeout=60) as client:
                assert set(states(client).values()) == {(False, False)}
                with client.stream(
                    "POST", "/api/chat", json={"message": "hello", "model": "tiny-chat", "stream": True}
                ) as response:
                    assert response.status_code == 200
                    events = read_sse(response)
                assert [name for name, _ in events if name in ("done", "error")] == ["done"]
                assert '"POST /tokenize HTTP/1.1" 503' in worker.log()  # refused while loading, then asked again
                # the three entries share one engine: all loaded now
                assert wait_for(lambda: set(states(client).values()) == {(True, False)}, 10, "all loaded")
