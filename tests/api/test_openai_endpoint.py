"""The official `openai` client, unchanged, against the chat API's /v1 with a personal key, over a real worker (a
tiny random model): streamed and not, the caller's usage recorded from the worker's counts."""

from __future__ import annotations

from dataclasses import replace

import httpx
import openai
import pytest

from llmchat.api.config import AccountSettings
from tests.support.api_server import api_config, start_api


@pytest.fixture
def accounts_api(worker, tmp_path):
    config = replace(
        api_config(f"sqlite:///{tmp_path / 'api.db'}", [worker.url]),
        identity="accounts",
        accounts=AccountSettings(signup="open"),
    )
    with start_api(config) as server:
        yield server


@pytest.fixture
def key(accounts_api) -> str:
    with httpx.Client(base_url=accounts_api.url, timeout=60) as browser:
        assert browser.post("/api/auth/signup", json={"name": "alice", "password": "long password"}).is_success
        return browser.post("/api/keys", json={"name": "sdk"}).json()["key"]


def usage_of(api_url: str, key: str) -> list[dict]:
    response = httpx.get(f"{api_url}/api/usage", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["usage"]


def test_the_openai_client_lists_models_and_chats_through_the_chat_api(accounts_api, key):
    client = openai.OpenAI(base_url=f"{accounts_api.url}/v1", api_key=key, max_retries=0)
    assert {"tiny-chat", "tiny-fewshot"} <= {m.id for m in client.models.list().data}

    reply = client.chat.completions.create(
        model="tiny-chat", messages=[{"role": "user", "content": "Hello"}], max_tokens=5, temperature=0
    )
    assert reply.choices[0].message.role == "assistant" and reply.choices[0].message.content
    assert reply.usage.completion_tokens >= 1 and reply.usage.prompt_tokens >= 1

    stream = client.chat.completions.create(
        model="tiny-chat", messages=[{"role": "user", "content": "Hello"}], max_tokens=5, temperature=0, stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert all(c.usage is None for c in chunks)  # the client did not ask for usage: none is passed on

    [row] = usage_of(accounts_api.url, key)
    assert (row["model"], row["requests"]) == ("tiny-chat", 2)
    assert row["prompt_tokens"] == 2 * reply.usage.prompt_tokens
    assert row["completion_tokens"] >= reply.usage.completion_tokens + 1


def test_usage_chunk_when_asked_and_errors_in_openai_shape(accounts_api, key):
    client = openai.OpenAI(base_url=f"{accounts_api.url}/v1", api_key=key, max_retries=0)
    stream = client.chat.completions.create(
        model="tiny-chat",
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=3,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens >= 1
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.BadRequestError) as too_many:
        client.chat.completions.create(
            model="tiny-chat", messages=[{"role": "user", "content": "Hi"}], max_tokens=10**6
        )
    assert "max_tokens" in str(too_many.value)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{accounts_api.url}/v1", api_key="llmc-wrong", max_retries=0).models.list()
