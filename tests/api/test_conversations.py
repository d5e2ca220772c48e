"""List, read, rename, delete, export; the OpenAPI document; the built web app at /."""

from __future__ import annotations

import json
import re

import httpx

from tests.support.api_server import api_config, start_api


def new_conversation(client: httpx.Client, message: str = "Hello") -> str:
    response = client.post("/api/chat", json={"message": message, "model": "tiny-chat"})
    assert response.status_code == 200, response.text
    return response.json()["conversation_id"]


def test_list_is_newest_first_with_counts(client):
    older = new_conversation(client, "older")
    newer = new_conversation(client, "newer")
    listed = client.get("/api/conversations").json()["conversations"]
    assert [c["id"] for c in listed] == [newer, older]
    assert set(listed[0]) == {
        "id",
        "title",
        "title_pending",
        "kind",
        "model",
        "models",
        "blind",
        "revealed",
        "created_at",
        "updated_at",
        "message_count",
        "answering",
    }
    assert listed[0]["message_count"] == 2 and listed[0]["model"] == "tiny-chat" and not listed[0]["answering"]
    assert listed[0]["title_pending"] is False  # first-line titles (the default) are final at once
    assert (listed[0]["kind"], listed[0]["models"]) == ("chat", ["tiny-chat"])
    client.post("/api/chat", json={"message": "bump", "model": "tiny-chat", "conversation_id": older})
    assert [c["id"] for c in client.get("/api/conversations").json()["conversations"]] == [older, newer]


def test_rename_and_delete(client):
    conversation_id = new_conversation(client)
    renamed = client.patch(f"/api/conversations/{conversation_id}", json={"title": "  Trip   plans "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Trip plans"
    assert client.get(f"/api/conversations/{conversation_id}").json()["title"] == "Trip plans"
    deleted = client.delete(f"/api/conversations/{conversation_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/api/conversations/{conversation_id}").status_code == 404
    assert client.delete(f"/api/conversations/{conversation_id}").status_code == 404


def test_export_markdown_and_json_as_attachments(client):
    conversation_id = new_conversation(client, "Export me")
    markdown = client.get(f"/api/conversations/{conversation_id}/export?format=markdown")
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["content-disposition"] == (
        "attachment; filename=\"export-me.md\"; filename*=UTF-8''Export%20me.md"
    )
    assert markdown.text.startswith("# Export me") and "## You" in markdown.text and "## Assistant" in markdown.text
    exported = client.get(f"/api/conversations/{conversation_id}/export", params={"format": "json"})
    assert exported.headers["content-disposition"].endswith("filename*=UTF-8''Export%20me.json")
    data = json.loads(exported.text)
    assert data["id"] == conversation_id and [m["role"] for m in data["messages"]] == ["user", "assistant"]
    assert client.get(f"/api/conversations/{conversation_id}/export?format=pdf").status_code == 400


def test_models_and_health(client, worker):
    models = client.get("/api/models").json()["models"]
    by_id = {m["id"]: m for m in models}
    assert {"tiny-chat", "tiny-fewshot", "tiny-alpaca"} <= set(by_id)
    fewshot = by_id["tiny-fewshot"]
    assert (fewshot["prompt_style"], fewshot["kind"], fewshot["context_length"]) == ("fewshot", "base", 512)
    assert set(fewshot["default_params"]) == {"temperature", "top_p", "max_tokens", "memory_window", "system_prompt"}
    health = client.get("/api/health").json()
    assert health == {
        "status": "ok",
        "api": "ok",
        "database": "ok",
        "workers": [{"url": worker.url, "status": "ok", "queue_depth": 0}],
    }


def test_openapi_is_valid_3_1_and_lists_every_api_route(client, api):
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    document = client.get("/api/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    OPENAPI_31_VALIDATOR.validate(document)  # the OpenAPI 3.1 meta-schema (schemathesis ships it)
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)  # each a valid JSON Schema 2020-12 (where exclusiveMinimum: 0 is)
    for rule in api.app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (method, path)


def test_the_built_frontend_is_served_with_spa_fallback(worker, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>llmchat app</html>")
    (dist / "assets" / "app.js").write_text("console.log('hi')")
    config = api_config(f"sqlite:///{tmp_path / 'f.db'}", [worker.url], frontend_dist=str(dist))
    with start_api(config) as api, httpx.Client(base_url=api.url) as client:
        assert "llmchat app" in client.get("/").text
        assert client.get("/assets/app.js").text == "console.log('hi')"
        assert "llmchat app" in client.get("/conversations/abc").text  # client-side route
        assert client.get("/api/unknown").json()["error"]["code"] == "not_found"
        assert "root:" not in client.get("/%2e%2e/%2e%2e/etc/passwd").text


def test_without_a_build_the_root_says_how_to_make_one(worker, tmp_path):
    config = api_config(f"sqlite:///{tmp_path / 'n.db'}", [worker.url], frontend_dist=str(tmp_path / "none"))
    with start_api(config) as api:
        response = httpx.get(api.url + "/")
        assert response.status_code == 404 and "npm run build" in response.json()["error"]["message"]
