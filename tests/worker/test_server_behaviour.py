"""The worker under load and over time: batching, adapters, runs that appear, disconnects, a full queue, openai."""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml
from tests.worker.helpers import same_reply

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

TIMEOUT = 60
PROMPTS = ["Hello there", "The quick brown fox", "one two three four five six", "Paris is", "### Instruction:\n"]


def greedy_text(url: str, model: str, prompt: str, max_tokens: int = 48) -> str:
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True}
    response = httpx.post(f"{url}/v1/completions", json=body, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["text"]


def engine_stats(client) -> dict:
    return {engine["name"]: engine for engine in client.get("/health").json()["engines"]}


def wait_until(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_concurrent_requests_are_batched_and_match_single_greedy(worker, client, engine):
    alone = [greedy_text(worker.url, "tiny-base", prompt, 96) for prompt in PROMPTS]
    with ThreadPoolExecutor(len(PROMPTS)) as pool:
        together = list(pool.map(lambda p: greedy_text(worker.url, "tiny-base", p, 96), PROMPTS))
    assert all(same_reply(batched, single, engine) for batched, single in zip(together, alone)), (together, alone)
    assert client.get("/health").json()["max_batch_seen"] >= 2


def test_base_and_two_adapters_at_once_each_answer_as_alone(worker, client, engine):
    """A mixed batch: the base and two different LoRA adapters, sent together, each give their own answer."""
    prompt = PROMPTS[1]
    outputs = {model: greedy_text(worker.url, model, prompt) for model in ("tiny-base", "tiny-lora-a", "tiny-lora-b")}
    assert len(set(outputs.values())) == 3
    engines_before = len(engine_stats(client))
    loads = sum(row["stats"]["adapter_loads"] for row in engine_stats(client).values())
    models = ["tiny-lora-a", "tiny-base", "tiny-lora-b", "tiny-chat"] * 2
    with ThreadPoolExecutor(4) as pool:
        again = list(pool.map(lambda model: greedy_text(worker.url, model, prompt), models))
    for index, model in enumerate(models):  # each request answered by its own model, not by another one
        expected = outputs["tiny-base"] if model == "tiny-chat" else outputs[model]
        assert same_reply(again[index], expected, engine), (model, again[index], expected)
    assert len(engine_stats(client)) == engines_before  # nothing was loaded again
    if engine == "transformers":  # runtime adapters on one shared base, each loaded once
        assert sum(row["stats"]["adapter_loads"] for row in engine_stats(client).values()) == loads == 2


def test_a_run_that_finishes_after_start_is_served(worker, worker_setup, client, tiny_lora_paths):
    _, models = worker_setup
    run = models / "runs" / "late-run"
    shutil.copytree(tiny_lora_paths[1], run / "adapter")
    marker = {
        "id": "late-run",
        "kind": "lora",
        "method": "lora",
        "base_model": "tiny-base",
        "prompt_style": "alpaca",
        "path": "adapter",
        "status": "running",
    }
    (run / "llmchat_run.json").write_text(json.dumps(marker), encoding="utf-8")
    assert "late-run" not in {row["id"] for row in client.get("/v1/models").json()["data"]}
    (run / "llmchat_run.json").write_text(json.dumps({**marker, "status": "complete"}), encoding="utf-8")
    # asked for directly (no /v1/models first): an unknown id triggers a re-scan
    assert greedy_text(worker.url, "late-run", PROMPTS[1]) == greedy_text(worker.url, "tiny-lora-b", PROMPTS[1])
    row = {row["id"]: row for row in client.get("/v1/models").json()["data"]}["late-run"]
    assert (row["kind"], row["base_model"], row["prompt_style"]) == ("lora", "tiny-base", "alpaca")


@pytest.fixture(scope="module")
def long_worker(tmp_path_factory, engine):
    """A tiny model with an 8192-token context on its own worker: a reply of 8000 tokens takes seconds even on
    OpenVINO (400 tokens of the shared tiny model could end before the hang-up reached the server)."""
    root = tmp_path_factory.mktemp(f"long-{engine}")
    source = make_tiny_model(root / "long", seed=5, max_position_embeddings=8192)
    entry = {"id": "tiny-long", "kind": "base", "source": str(source), "prompt_style": "fewshot"}
    config = write_models_yaml(root / "models.yaml", [entry], worker={"engine": engine})
    with start_worker(config, models_dir=root / "models", timeout=180) as running:
        yield running


def test_client_disconnect_cancels_generation(long_worker):
    body = {
        "model": "tiny-long",
        "prompt": "Hello",
        "max_tokens": 8000,
        "temperature": 0,
        "ignore_eos": True,
        "stream": True,
    }
    with httpx.Client(base_url=long_worker.url, timeout=TIMEOUT) as client:
        assert sum(e["stats"]["cancelled"] for e in engine_stats(client).values()) == 0
        with httpx.Client(base_url=long_worker.url, timeout=TIMEOUT) as short_lived:
            with short_lived.stream("POST", "/v1/completions", json=body) as response:
                next(response.iter_lines())
        assert wait_until(lambda: sum(e["stats"]["cancelled"] for e in engine_stats(client).values()) == 1)
        assert wait_until(lambda: client.get("/health").json()["active"] == 0)
        assert sum(e["stats"]["tokens_generated"] for e in engine_stats(client).values()) < 8000


@pytest.mark.parametrize("engine_name", ["transformers", "openvino"])
def test_full_queue_answers_503_with_retry_after(tmp_path, tiny_model_path, engine_name):
    config = write_models_yaml(
        tmp_path / "models.yaml",
        [{"id": "tiny", "kind": "base", "source": str(tiny_model_path)}],
        worker={"max_batch_size": 1, "max_queue": 1, "engine": engine_name},
    )
    with start_worker(config, models_dir=tmp_path / "models") as worker:
        body = {"model": "tiny", "prompt": "Hello", "max_tokens": 480, "temperature": 0, "ignore_eos": True}
        arrive_together = threading.Barrier(12)  # OpenVINO writes 480 tiny-model tokens in a fraction of a second

        def post(_):
            arrive_together.wait()
            return httpx.post(f"{worker.url}/v1/completions", json=body, timeout=TIMEOUT)

        with ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(post, range(12)))
        busy = [r for r in responses if r.status_code == 503]
        assert busy and all(r.headers["Retry-After"] for r in busy)
        assert busy[0].json()["error"]["code"] == "queue_full"
        assert any(r.status_code == 200 for r in responses)
        assert httpx.get(f"{worker.url}/health").json()["status"] == "ok"


def test_official_openai_client(worker):
    from openai import OpenAI

    client = OpenAI(base_url=f"{worker.url}/v1", api_key="unused", max_retries=0, timeout=TIMEOUT)
    completion = client.completions.create(
        model="tiny-base", prompt="Hello there", max_tokens=8, temperature=0, extra_body={"ignore_eos": True}
    )
    assert completion.choices[0].finish_reason == "length" and completion.usage.completion_tokens == 8
    chat = client.chat.completions.create(
        model="tiny-chat",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=8,
        temperature=0,
        extra_body={"ignore_eos": True},
    )
    assert chat.choices[0].message.role == "assistant" and chat.usage.completion_tokens == 8
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="tiny-chat",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=8,
            temperature=0,
            stream=True,
            extra_body={"ignore_eos": True},
        )
        if chunk.choices
    ]
    assert "".join(pieces) == chat.choices[0].message.content
    assert [model.id for model in client.models.list()][:2] == ["tiny-chat", "tiny-base"]
