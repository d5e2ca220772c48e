"""Two worker processes behind one model: requests spread, and a dead one is skipped."""

from __future__ import annotations

import httpx
import pytest

from llmchat.api.config import ModelSettings
from tests.support.api_server import api_config, start_api
from tests.support.servers import start_worker


def served(worker) -> int:
    return worker.log().count("POST /v1/chat/completions")


@pytest.mark.integration
def test_requests_spread_over_two_workers_and_skip_a_dead_one(models_yaml, tmp_path):
    with start_worker(models_yaml) as first, start_worker(models_yaml) as second:
        routes = {"tiny-chat": ModelSettings(workers=(first.url, second.url))}
        config = api_config(f"sqlite:///{tmp_path / 'r.db'}", [first.url], models=routes)
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=60) as client:
            for n in range(6):
                response = client.post("/api/chat", json={"message": f"hello {n}", "model": "tiny-chat"})
                assert response.status_code == 200, response.text
            assert served(first) >= 1 and served(second) >= 1
            assert served(first) + served(second) == 6
            second.process.kill()
            second.process.wait(timeout=10)
            before = served(first)
            for n in range(3):
                response = client.post("/api/chat", json={"message": f"again {n}", "model": "tiny-chat"})
                assert response.status_code == 200, response.text
            assert served(first) == before + 3
            workers = {w["url"]: w["status"] for w in client.get("/api/health").json()["workers"]}
            assert workers == {first.url: "ok", second.url: "down"}


def test_an_odd_health_body_means_alive_with_an_unknown_queue():
    """A server's /health may answer a list, or a queue_depth that is no number: that raised (a 500 on every
    chat request routed by queue depth, and on /api/health) instead of counting the server as alive."""
    from llmchat.modelclient import Endpoint, ModelClient

    bodies = iter([[1, 2], {"queue_depth": "lots"}, {"queue_depth": None, "status": "ok"}, {"queue_depth": 3}])
    client = ModelClient()
    client._http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=next(bodies))))
    try:
        depths = [client.health(Endpoint("http://odd"))["queue_depth"] for _ in range(4)]
    finally:
        client.close()
    assert depths == [0, 0, 0, 3]
