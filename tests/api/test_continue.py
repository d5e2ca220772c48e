"""Continue: a reply cut off at max_tokens is extended in place, in every prompt style (chat templates continue
the assistant turn: vLLM's continue_final_message, implemented by llmchat's worker too)."""

from __future__ import annotations

import httpx
import pytest

from llmchat.api.config import ModelSettings
from llmchat.prompts import PromptBuilder, Turn
from tests.api.conftest import read_sse
from tests.support.api_server import api_config, start_api

STYLES = ("chat", "fewshot", "alpaca")
# ignore_eos: the random model always runs to max_tokens, so every reply is cut off (finish_reason length)
TALKATIVE = {f"tiny-{style}": ModelSettings(extra_body={"ignore_eos": True}) for style in STYLES}


@pytest.fixture
def talkative(worker, tmp_path):
    config = api_config(f"sqlite:///{tmp_path / 'c.db'}", [worker.url], models=TALKATIVE)
    with start_api(config) as api, httpx.Client(base_url=api.url, timeout=60) as client:
        yield client


def expected_prompt_tokens(worker_url: str, style: str, question: str, partial: str) -> int:
    """What the worker counts for a prompt that ends inside the reply, rendered independently of the API."""
    prompt = PromptBuilder().render(style, "", [Turn("user", question), Turn("assistant", partial)])
    body = {"model": f"tiny-{style}"}
    if prompt.messages is not None:
        body.update(messages=list(prompt.messages), continue_final_message=True, add_generation_prompt=False)
    else:
        body["prompt"] = prompt.text
    return httpx.post(f"{worker_url}/tokenize", json=body, timeout=30).json()["count"]


@pytest.mark.parametrize("style", STYLES)
def test_continue_extends_the_cut_off_reply_in_place(talkative, worker, style):
    first = talkative.post(
        "/api/chat", json={"message": "Tell me a story", "model": f"tiny-{style}", "params": {"max_tokens": 6}}
    ).json()
    reply = first["message"]
    assert reply["finish_reason"] == "length"
    url = f"/api/messages/{reply['id']}/continue"
    with talkative.stream("POST", url, json={"stream": True, "params": {"max_tokens": 5}}) as response:
        assert response.status_code == 200, response.read()
        events = read_sse(response)
    assert events[0][0] == "start" and events[-1][0] == "done"
    assert events[0][1]["message"]["status"] == "streaming" and events[0][1]["message"]["id"] == reply["id"]
    done = events[-1][1]["message"]
    added = "".join(data["content"] for name, data in events if name == "delta")
    assert done["id"] == reply["id"] and done["content"] == reply["content"] + added
    assert done["finish_reason"] == "length" and done["status"] == "complete"
    assert done["usage"]["completion_tokens"] > reply["usage"]["completion_tokens"]
    assert done["sibling_ids"] == [reply["id"]]  # the same reply, not a new version
    # the prompt ended with the partial reply (for the chat template: inside the assistant turn, no new turn)
    assert done["usage"]["prompt_tokens"] == expected_prompt_tokens(
        worker.url, style, "Tell me a story", reply["content"]
    )
    again = talkative.post(url, json={}).json()["message"]  # JSON, once more
    assert again["content"].startswith(done["content"]) and again["id"] == reply["id"]
    stored = talkative.get(f"/api/conversations/{first['conversation_id']}").json()["messages"]
    assert [m["id"] for m in stored] == [first["user_message"]["id"], reply["id"]]
    assert stored[1]["content"] == again["content"]


def test_only_cut_off_or_stopped_replies_continue(api, client):
    body = client.post("/api/chat", json={"message": "Hi", "model": "tiny-chat", "params": {"max_tokens": 4}})
    reply, user = body.json()["message"], body.json()["user_message"]
    # a reply that ended by itself (the random model rarely does): set up in the store
    api.app.extensions["llmchat"].store.update_message(reply["id"], finish_reason="stop")
    refused = client.post(f"/api/messages/{reply['id']}/continue", json={})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "nothing_to_continue"
    assert client.post(f"/api/messages/{user['id']}/continue", json={}).status_code == 400
    assert client.post("/api/messages/99999999/continue", json={}).status_code == 404
    assert client.post("/api/messages/99999999999999999999/continue", json={}).status_code == 404


def test_the_worker_continues_the_final_message_like_vllm(worker):
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, I am"}]

    def tokenize(**flags):
        return httpx.post(
            f"{worker.url}/tokenize",
            timeout=30,
            json={
                "model": "tiny-chat",
                "messages": messages,
                **flags,
            },
        ).json()

    opened = tokenize()["count"]  # a new assistant turn after the finished one
    continued = tokenize(continue_final_message=True, add_generation_prompt=False)["count"]
    assert continued < opened  # no end-of-turn, no new turn header
    response = httpx.post(
        f"{worker.url}/v1/chat/completions",
        timeout=60,
        json={
            "model": "tiny-chat",
            "messages": messages,
            "continue_final_message": True,
            "add_generation_prompt": False,
            "max_tokens": 3,
        },
    )
    assert response.status_code == 200 and response.json()["usage"]["prompt_tokens"] == continued
    both = httpx.post(
        f"{worker.url}/v1/chat/completions",
        timeout=30,
        json={
            "model": "tiny-chat",
            "messages": messages,
            "continue_final_message": True,
            "add_generation_prompt": True,
        },
    )
    assert both.status_code == 400
    not_assistant = httpx.post(
        f"{worker.url}/v1/chat/completions",
        timeout=30,
        json={"model": "tiny-chat", "messages": messages[:1], "continue_final_message": True},
    )
    assert not_assistant.status_code == 400 and "assistant" in not_assistant.json()["error"]["message"]
