"""The Admin page's model controls: an admin loads and unloads a model on its server through the chat API (the
worker's POST /v1/models/{id}/load|unload); anyone else is refused, and a model nobody serves is a 400."""

from __future__ import annotations

import httpx

from tests.support.api_server import api_config, start_api


def loaded(client: httpx.Client) -> dict[str, bool]:
    return {m["id"]: m["loaded"] for m in client.get("/api/models").json()["models"]}


def test_an_admin_unloads_and_loads_a_model_and_the_list_says_so(client):
    assert loaded(client)["tiny-chat"] is True  # preloaded
    response = client.post("/api/admin/models/tiny-chat/unload")
    assert response.status_code == 200, response.text
    # the three entries share one engine: unloading one unloads the weights they all use
    assert set(response.json()["unloaded"]) == {"tiny-chat", "tiny-fewshot", "tiny-alpaca"}
    assert loaded(client) == {"tiny-chat": False, "tiny-fewshot": False, "tiny-alpaca": False}
    response = client.post("/api/admin/models/tiny-fewshot/load")
    assert response.status_code == 200 and response.json()["loaded"] is True
    assert all(loaded(client).values())
    # a chat still works afterwards
    reply = client.post("/api/chat", json={"message": "hi", "model": "tiny-chat"})
    assert reply.status_code == 200 and reply.json()["message"]["status"] == "complete"


def test_a_model_nobody_serves_is_a_400_naming_the_field(client):
    response = client.post("/api/admin/models/no-such-model/load")
    assert response.status_code == 400 and response.json()["error"]["field"] == "model"


def test_someone_not_admin_cannot_load_or_unload(worker, tmp_path):
    config = api_config(f"sqlite:///{tmp_path / 'api.db'}", [worker.url], admin_ips=())
    with start_api(config) as api, httpx.Client(base_url=api.url, timeout=60) as http:
        for action in ("load", "unload"):
            response = http.post(f"/api/admin/models/tiny-chat/{action}")
            assert response.status_code == 403 and response.json()["error"]["code"] == "admin_only"
        assert loaded(http)["tiny-chat"] is True
