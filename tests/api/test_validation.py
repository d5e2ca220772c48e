"""Bad input on a real worker: a message over the context as the model's own tokenizer counts it. The rest of the
request validation (each field named, bodies, sizes, Flask's 404/405, the rate limit) runs in the fast tier:
tests/api_fast/test_limits_and_validation.py."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


def test_a_message_longer_than_the_context_is_400_saying_so(client):
    response = client.post("/api/chat", json={"message": "word " * 1500, "model": "tiny-fewshot"})
    error = error_of(response)
    assert response.status_code == 400 and error["code"] == "message_too_long"
    assert "512" in error["message"] and "too long" in error["message"]
    assert client.get("/api/conversations").json()["conversations"] == []


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
