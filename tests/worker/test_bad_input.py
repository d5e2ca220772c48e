"""Bad input the worker used to answer with a 500 (or a failed generation): each is a 400 that names the field."""

from __future__ import annotations

import httpx
import pytest

TIMEOUT = 60


def post_raw(client, path: str, raw: str) -> httpx.Response:
    return client.post(path, content=raw.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("field", ["temperature", "top_p", "repetition_penalty"])
def test_nan_sampling_fields_are_400(client, field):
    # Python's json accepts NaN; every comparison with it is False, so it used to pass the range check
    response = post_raw(
        client,
        "/v1/completions",
        f'{{"model": "tiny-base", "prompt": "Hello", "max_tokens": 2, "temperature": 1, "{field}": NaN}}',
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field


@pytest.mark.parametrize("seed", [2**64, 10**30])
def test_seed_too_big_for_torch_is_400(client, seed):
    response = client.post(
        "/v1/completions",
        json={"model": "tiny-base", "prompt": "Hello", "max_tokens": 2, "temperature": 1, "seed": seed},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "seed"


def test_largest_seed_still_works(client):
    response = client.post(
        "/v1/completions",
        json={"model": "tiny-base", "prompt": "Hello", "max_tokens": 2, "temperature": 1, "seed": 2**64 - 1},
    )
    assert response.status_code == 200, response.text


def test_empty_prompt_is_400(client):
    response = client.post("/v1/completions", json={"model": "tiny-base", "prompt": "", "max_tokens": 2})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "prompt"


def test_content_part_with_non_string_text_is_400(client):
    body = {
        "model": "tiny-chat",
        "max_tokens": 2,
        "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}],
    }
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "messages[0].content"


def test_content_parts_still_join_their_text(client):
    body = {
        "model": "tiny-chat",
        "max_tokens": 2,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hel"}, {"text": "lo"}]}],
    }
    assert client.post("/v1/chat/completions", json=body).status_code == 200


@pytest.mark.parametrize(
    "path, raw, param",
    [
        ("/v1/completions", '{"model": "tiny-base", "prompt": "a\\ud800b", "max_tokens": 2}', "prompt"),
        ("/tokenize", '{"model": "tiny-base", "prompt": "\\ud800"}', "prompt"),
        (
            "/v1/chat/completions",
            '{"model": "tiny-chat", "max_tokens": 2, "messages": [{"role": "user", "content": "\\udfff"}]}',
            "messages[0].content",
        ),
    ],
)
def test_lone_surrogate_is_400(client, path, raw, param):
    response = post_raw(client, path, raw)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_deeply_nested_json_is_400(client):
    response = post_raw(client, "/v1/completions", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_json"


def test_n_true_is_not_n_1(client):
    response = client.post("/v1/completions", json={"model": "tiny-base", "prompt": "Hello", "n": True})
    assert response.status_code == 400 and response.json()["error"]["param"] == "n"


def test_worker_still_generates_after_all_that(client):
    response = client.post(
        "/v1/completions",
        json={"model": "tiny-base", "prompt": "Hello", "max_tokens": 2, "temperature": 0, "ignore_eos": True},
    )
    assert response.status_code == 200 and response.json()["usage"]["completion_tokens"] == 2


def test_a_huge_prompt_does_not_block_the_event_loop(client, worker):
    """Tokenizing megabytes takes seconds; it used to run on the event loop, so /health and every stream froze."""
    import threading
    import time

    result = {}

    def tokenize():
        with httpx.Client(base_url=worker.url, timeout=TIMEOUT) as other:
            result["response"] = other.post(
                "/tokenize", json={"model": "tiny-base", "prompt": "hello world " * 300_000}
            )

    thread = threading.Thread(target=tokenize)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    health = client.get("/health")
    waited = time.monotonic() - started
    still_tokenizing = thread.is_alive()
    thread.join()
    assert health.status_code == 200 and result["response"].status_code == 200
    assert still_tokenizing, "the prompt was tokenized too fast to show anything; make it longer"
    assert waited < 1.0, f"/health waited {waited:.1f} s behind a tokenization"


def test_include_usage_must_be_a_flag(client):
    response = client.post(
        "/v1/completions",
        json={
            "model": "tiny-base",
            "prompt": "Hello",
            "max_tokens": 2,
            "stream": True,
            "stream_options": {"include_usage": "no"},
        },
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "stream_options.include_usage"
