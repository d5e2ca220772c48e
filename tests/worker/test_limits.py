"""What the worker refuses before any work, on a real process: cross-site bodies, huge bodies, missing keys, too
many prompts waiting for the tokenizer; and what it never tells a client (exception text)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.servers import start_worker
from tests.support.tiny_model import write_models_yaml

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

TIMEOUT = 60
KEY = "sk-test-key"


@pytest.fixture(scope="module")
def guarded_worker(tmp_path_factory, tiny_model_path):
    """A worker with an API key, a 64 KiB body limit and room for 150,000 characters waiting for the tokenizer."""
    root = tmp_path_factory.mktemp("guarded")
    broken = root / "broken-model"  # a config.json and weights that are not safetensors: loading it fails
    broken.mkdir()
    (broken / "config.json").write_text((tiny_model_path / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    config = write_models_yaml(
        root / "models.yaml",
        [
            {"id": "tiny", "kind": "base", "source": str(tiny_model_path)},
            {"id": "broken", "kind": "base", "source": str(broken)},
        ],
        worker={
            "engine": "transformers",
            "max_body_bytes": 65536,
            "max_tokenize_backlog_chars": 150_000,
            "preload": False,
        },
    )
    with start_worker(config, models_dir=root / "models", env={"LLMCHAT_WORKER_API_KEY": KEY}) as worker:
        yield worker


def post(worker, path: str, key: str | None = KEY, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{worker.url}{path}", headers={**headers, **kwargs.pop("headers", {})}, timeout=TIMEOUT, **kwargs
    )


BODY = {"model": "tiny", "prompt": "Hello", "max_tokens": 2, "temperature": 0}


def test_the_key_is_needed_everywhere_but_health(guarded_worker):
    assert httpx.get(f"{guarded_worker.url}/health", timeout=TIMEOUT).status_code == 200
    for key in (None, "sk-wrong"):
        response = post(guarded_worker, "/v1/completions", key=key, json=BODY)
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
        assert response.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{guarded_worker.url}/v1/models", timeout=TIMEOUT).status_code == 401
    assert post(guarded_worker, "/v1/completions", json=BODY).status_code == 200


def test_a_key_works_with_the_official_client(guarded_worker):
    from openai import OpenAI

    client = OpenAI(base_url=f"{guarded_worker.url}/v1", api_key=KEY, max_retries=0, timeout=TIMEOUT)
    assert client.completions.create(model="tiny", prompt="Hi", max_tokens=2).usage.completion_tokens >= 1


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_only_json_bodies_are_taken(guarded_worker, content_type):
    """A web page can post text/plain or a form to any address without a CORS preflight: refused before parsing."""
    import json

    headers = {"content-type": content_type} if content_type else {}
    response = post(guarded_worker, "/v1/completions", content=json.dumps(BODY).encode(), headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_413_and_nothing_is_tokenized(guarded_worker):
    response = post(guarded_worker, "/v1/completions", json={**BODY, "prompt": "x" * 70_000})
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"
    # without a Content-Length (chunked), the limit holds while the body arrives
    chunks = (b'{"model": "tiny", "prompt": "' + b"y" * 8192 for _ in range(10))
    response = post(guarded_worker, "/tokenize", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_too_much_text_waiting_for_the_tokenizer_gets_503_at_once(guarded_worker):
    """Each prompt below takes a while to tokenize; past 150,000 characters waiting (two of them), the worker says
    busy instead of queueing, while many short prompts at once all go through."""
    prompt = "hello world " * 5000  # 60 KB, under the body limit
    barrier = threading.Barrier(8)

    def tokenize(_):
        barrier.wait()
        started = time.monotonic()
        response = post(guarded_worker, "/tokenize", json={"model": "tiny", "prompt": prompt})
        return response, time.monotonic() - started

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(tokenize, range(8)))
    statuses = sorted(response.status_code for response, _ in results)
    assert statuses.count(200) >= 2 and 503 in statuses, statuses
    for response, _ in results:
        if response.status_code == 503:
            assert response.json()["error"]["code"] == "tokenizer_busy" and response.headers["Retry-After"]
    assert post(guarded_worker, "/v1/completions", json=BODY).status_code == 200
    with ThreadPoolExecutor(16) as pool:
        shorts = list(
            pool.map(lambda _: post(guarded_worker, "/tokenize", json={"model": "tiny", "prompt": "hi"}), range(32))
        )
    assert {response.status_code for response in shorts} == {200}


def test_stop_strings_are_bounded(guarded_worker):
    many = post(guarded_worker, "/v1/completions", json={**BODY, "stop": ["a"] * 17})
    assert many.status_code == 400 and many.json()["error"]["param"] == "stop"
    long = post(guarded_worker, "/v1/completions", json={**BODY, "stop": ["z" * 257]})
    assert long.status_code == 400 and long.json()["error"]["param"] == "stop[0]"


def test_an_internal_error_tells_no_details(guarded_worker):
    """A failure inside the worker (here: weights that do not load) is a 500 that says which model failed to load and
    no more; the exception, with its paths, goes to the worker's log only."""
    response = post(guarded_worker, "/v1/completions", json={**BODY, "model": "broken"})
    assert response.status_code == 500
    assert response.json()["error"] == {
        "message": "model 'broken' could not be loaded (the worker's log says why); the next request tries again",
        "type": "server_error",
        "code": "model_load_failed",
        "param": None,
    }
    assert "SafetensorError" in guarded_worker.log()
    assert post(guarded_worker, "/v1/completions", json=BODY).status_code == 200
