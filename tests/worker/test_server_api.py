"""The worker's HTTP contract on a real subprocess: endpoints, streaming, stop strings, errors."""

from __future__ import annotations

import json

import pytest


def complete(client, **fields) -> dict:
    body = {"model": "tiny-base", "prompt": "Hello there", "max_tokens": 16, "temperature": 0, "ignore_eos": True}
    response = client.post("/v1/completions", json={**body, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def stream_events(client, path: str, body: dict) -> list[str]:
    """The raw `data:` payloads, after checking the SSE framing of every event."""
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    events = raw.split("\n\n")
    assert events[-1] == ""
    assert all(event.startswith("data: ") for event in events[:-1])
    payloads = [event[len("data: ") :] for event in events[:-1]]
    assert payloads[-1] == "[DONE]"
    return payloads[:-1]


def streamed_text(client, **fields) -> tuple[list[str], dict]:
    body = {
        "model": "tiny-base",
        "prompt": "Hello there",
        "max_tokens": 16,
        "temperature": 0,
        "ignore_eos": True,
        "stream": True,
        **fields,
    }
    chunks = [json.loads(payload) for payload in stream_events(client, "/v1/completions", body)]
    return [chunk["choices"][0]["text"] for chunk in chunks], chunks[-1]


def test_health(client, engine):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["device"] == "cpu"
    assert {"tiny-chat", "tiny-base", "tiny-plain"} <= set(health["models"])
    assert set(health["engine_of"].values()) == {engine}
    assert all(row["kind"] == engine for row in health["engines"])
    assert isinstance(health["queue_depth"], int) and health["max_queue"] == 16
    # tiny-chat and tiny-base share one copy of the weights and tiny-plain has its own; tiny-lora-b is a runtime
    # adapter on the shared transformers engine, but a merged export with an engine of its own on OpenVINO
    assert len(health["engines"]) == {"transformers": 2, "openvino": 3}[engine]


def test_models_lists_config_and_discovered(client, engine):
    rows = {row["id"]: row for row in client.get("/v1/models").json()["data"]}
    assert {"tiny-chat", "tiny-base", "tiny-lora-b", "tiny-plain", "tiny-lora-a"} <= set(rows)
    assert rows["tiny-lora-a"]["kind"] == "lora" and rows["tiny-lora-a"]["base_model"] == "tiny-chat"
    assert rows["tiny-base"] | {"default_params": None} == {
        "id": "tiny-base",
        "object": "model",
        "owned_by": "llmchat",
        "kind": "base",
        "prompt_style": "fewshot",
        "context_length": 512,
        "base_model": None,
        "engine": engine,
        "weight_format": {"transformers": "float32", "openvino": "int8"}[engine],
        "default_params": None,
        "origin": "config",
        "created": None,
        "loaded": True,  # preloaded: a configured model
        "loading": False,
    }
    assert rows["tiny-lora-a"]["origin"] == "adapters" and rows["tiny-lora-a"]["created"] is None
    assert set(rows["tiny-chat"]["default_params"]) == {"temperature", "top_p", "max_tokens", "repetition_penalty"}
    assert rows["tiny-plain"]["context_length"] == 64


def test_completion_shape_and_usage(client):
    body = complete(client)
    assert body["object"] == "text_completion" and body["model"] == "tiny-base"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and isinstance(choice["text"], str)
    prompt_tokens = client.post("/tokenize", json={"model": "tiny-base", "prompt": "Hello there"}).json()["count"]
    assert body["usage"] == {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": 16,
        "total_tokens": prompt_tokens + 16,
    }


def test_chat_completion_uses_the_chat_template(client):
    messages = [{"role": "user", "content": "hi"}]
    response = client.post(
        "/v1/chat/completions",
        json={"model": "tiny-chat", "messages": messages, "max_tokens": 8, "temperature": 0, "ignore_eos": True},
    )
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    rendered = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    count = client.post("/tokenize", json={"model": "tiny-chat", "prompt": rendered}).json()["count"]
    assert body["usage"]["prompt_tokens"] == count


def test_tokenize(client):
    body = client.post("/tokenize", json={"model": "tiny-base", "prompt": "Hello there"}).json()
    assert body["count"] == len(body["tokens"]) > 0 and body["max_model_len"] == 512


def test_streaming_matches_non_streaming(client):
    pieces, last = streamed_text(client)
    assert "".join(pieces) == complete(client)["choices"][0]["text"]
    assert last["choices"][0]["finish_reason"] == "length" and last["usage"]["completion_tokens"] == 16


def test_chat_streaming_framing(client):
    body = {
        "model": "tiny-chat",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 6,
        "temperature": 0,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    chunks = [json.loads(payload) for payload in stream_events(client, "/v1/chat/completions", body)]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 6


def _stop_across_tokens(pieces: list[str]) -> tuple[str, int]:
    """A stop string made of the end of one streamed piece and the start of the next, and where it first starts."""
    full, offset = "".join(pieces), 0
    for index, piece in enumerate(pieces[:-1]):
        offset += len(piece)
        if index < 2 or not piece or not pieces[index + 1]:
            continue
        start = offset - min(2, len(piece))
        candidate = full[start : offset + min(2, len(pieces[index + 1]))]
        if full.find(candidate) == start:
            return candidate, start
    raise AssertionError(f"no usable stop string in {pieces!r}")


def test_stop_string_non_streamed_and_streamed(client):
    pieces, _ = streamed_text(client, max_tokens=40)
    full = "".join(pieces)
    stop, cut = _stop_across_tokens(pieces)
    expected = full[:cut]
    body = complete(client, max_tokens=40, stop=[stop, "never-there"])
    assert body["choices"][0]["text"] == expected and body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] < 40
    streamed, last = streamed_text(client, max_tokens=40, stop=stop)
    assert "".join(streamed) == expected and last["choices"][0]["finish_reason"] == "stop"
    assert all(stop not in piece for piece in streamed)


@pytest.mark.parametrize(
    "fields, status, param",
    [
        ({"model": "no-such-model"}, 404, "model"),
        ({"temperature": "hot"}, 400, "temperature"),
        ({"top_p": 0}, 400, "top_p"),
        ({"max_tokens": 0}, 400, "max_tokens"),
        ({"stop": 5}, 400, "stop"),
        ({"n": 2}, 400, "n"),
        ({"prompt": None}, 400, "prompt"),
        ({"stream": "yes"}, 400, "stream"),
    ],
)
def test_bad_fields(client, fields, status, param):
    body = {"model": "tiny-base", "prompt": "Hello", **fields}
    response = client.post("/v1/completions", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["param"] == param and error["message"] and "type" in error and "code" in error


def test_non_json_and_bad_messages(client):
    response = client.post("/v1/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]
    response = client.post("/v1/chat/completions", json={"model": "tiny-chat", "messages": [{"role": "x"}]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "messages[0].role"


def test_prompt_longer_than_context_names_both_numbers(client):
    prompt = "one two three " * 40
    count = client.post("/tokenize", json={"model": "tiny-plain", "prompt": prompt}).json()["count"]
    response = client.post("/v1/completions", json={"model": "tiny-plain", "prompt": prompt})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert str(count) in message and "64" in message


def test_chat_on_model_without_template_is_400(client):
    response = client.post(
        "/v1/chat/completions", json={"model": "tiny-plain", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert response.status_code == 400 and "chat template" in response.json()["error"]["message"]


def test_worker_survives_bad_requests(client):
    client.post("/v1/completions", content=b"\xff\xfe", headers={"content-type": "application/json"})
    client.post("/v1/completions", json=[1, 2, 3])
    assert client.get("/health").json()["status"] == "ok"
    assert complete(client, max_tokens=2)["usage"]["completion_tokens"] == 2
