"""Bad input always gets a clear JSON error; Flask's own 404/405/413 too."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from llmchat.api.config import Limits
from tests.support.api_server import api_config, start_api


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "tiny-chat"}, "message"),
        ({"message": "hi"}, "model"),
        ({"message": 5, "model": "tiny-chat"}, "message"),
        ({"message": "hi", "model": "tiny-chat", "params": {"temperature": 9}}, "params.temperature"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 0}}, "params.max_tokens"),
        ({"message": "hi", "model": "tiny-chat", "params": {"top_k": 3}}, "params.top_k"),
        ({"message": "hi", "model": "tiny-chat", "stream": "yes please"}, "stream"),
        # wrong types are not coerced
        ({"message": "hi", "model": "tiny-chat", "stream": "yes"}, "stream"),
        ({"message": "hi", "model": "tiny-chat", "params": {"temperature": "0.5"}}, "params.temperature"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 8.5}}, "params.max_tokens"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": True}}, "params.max_tokens"),
    ],
)
def test_schema_errors_name_the_field(client, body, field):
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400
    assert error_of(response)["field"] == field


def test_integers_are_fine_where_a_float_is_expected(client):
    body = {"message": "hi", "model": "tiny-chat", "params": {"temperature": 0, "top_p": 1, "max_tokens": 2}}
    assert client.post("/api/chat", json=body).status_code == 200


def test_malformed_json_and_non_object_bodies(client):
    bad = client.post("/api/chat", content=b'{"message": "hi",', headers={"content-type": "application/json"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "malformed_json"
    listed = client.post("/api/chat", json=["hi"])
    assert listed.status_code == 400 and error_of(listed)["code"] == "invalid_body"


def test_empty_message_is_400_and_saves_nothing(client):
    response = client.post("/api/chat", json={"message": "   \n ", "model": "tiny-chat"})
    assert response.status_code == 400 and error_of(response)["field"] == "message"
    assert client.get("/api/conversations").json()["conversations"] == []


def test_unknown_model_lists_the_models(client):
    response = client.post("/api/chat", json={"message": "hi", "model": "gpt-9"})
    error = error_of(response)
    assert response.status_code == 400 and error["field"] == "model"
    assert "tiny-chat" in error["message"] and "tiny-fewshot" in error["message"]


def test_oversized_message_is_413(client):
    response = client.post("/api/chat", json={"message": "x" * 8001, "model": "tiny-chat"})
    assert response.status_code == 413 and error_of(response)["code"] == "message_too_large"
    huge = client.post("/api/chat", content=b"x" * 200_000, headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "error" in huge.json()


def test_a_message_longer_than_the_context_is_400_saying_so(client):
    response = client.post("/api/chat", json={"message": "word " * 1500, "model": "tiny-fewshot"})
    error = error_of(response)
    assert response.status_code == 400 and error["code"] == "message_too_long"
    assert "512" in error["message"] and "too long" in error["message"]
    assert client.get("/api/conversations").json()["conversations"] == []


def test_max_tokens_beyond_the_context_is_400(client):
    response = client.post("/api/chat", json={"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 600}})
    assert response.status_code == 400 and error_of(response)["field"] == "params.max_tokens"


def test_flask_errors_are_json(client):
    assert error_of(client.get("/api/nowhere"))["code"] == "not_found"
    assert client.post("/api/nowhere", json={}).status_code == 404
    wrong_method = client.put("/api/chat", json={})
    assert wrong_method.status_code == 405 and error_of(wrong_method)["code"] == "method_not_allowed"
    assert client.get("/api/conversations/0123/export?format=pdf").status_code in (400, 404)
    assert client.patch("/api/conversations/x", json={"title": ""}).status_code == 400


def test_rate_limit_is_per_ip_with_retry_after(worker, tmp_path):
    config = api_config(
        f"sqlite:///{tmp_path / 'r.db'}", [worker.url], limits=Limits(rate_limit_requests=2, rate_limit_window_s=60)
    )
    with start_api(config) as api:
        first = httpx.Client(base_url=api.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        other = httpx.Client(base_url=api.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.3"))
        with first, other:
            for _ in range(2):
                assert first.post("/api/chat", json={"message": "hi", "model": "tiny-chat"}).status_code == 200
            limited = first.post("/api/chat", json={"message": "hi", "model": "tiny-chat"})
            assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert other.post("/api/chat", json={"message": "hi", "model": "tiny-chat"}).status_code == 200
            assert first.get("/api/conversations").status_code == 200  # reading is not limited


def test_config_rejects_unknown_keys_and_reads_environment(tmp_path):
    from llmchat.api.config import load_config

    path = tmp_path / "app.yaml"
    path.write_text("port: 6000\nlimits: {max_message_chars: 10}\nmodels: {m: {workers: [http://a:1]}}\n")
    config = load_config(
        path,
        environ={
            "LLMCHAT_DATABASE_URL": "sqlite:///x.db",
            "LLMCHAT_WORKER_URL": "http://w1:1, http://w2:2",
            "LLMCHAT_RATE_LIMIT_REQUESTS": "7",
            "LLMCHAT_TRUSTED_PROXIES": "10.0.0.0/8",
        },
    )
    assert (config.port, config.database_url, config.worker_urls) == (
        6000,
        "sqlite:///x.db",
        ("http://w1:1", "http://w2:2"),
    )
    assert (config.limits.max_message_chars, config.limits.rate_limit_requests) == (10, 7)
    assert config.models["m"].workers == ("http://a:1",) and config.trusted_proxies == ("10.0.0.0/8",)
    path.write_text("prot: 6000\n")
    with pytest.raises(ValueError, match="prot"):
        load_config(path, environ={})
    assert replace(load_config(tmp_path / "missing.yaml", environ={}), port=1).port == 1
