"""Conversations belong to the client IP: real sockets from 127.0.0.2 and 127.0.0.3, forged X-Forwarded-For."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api_server import api_config, start_api
from tests.support.ownership import requests_on


def from_address(url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


def chat(http: httpx.Client, message: str, **extra) -> dict:
    response = http.post("/api/chat", json={"message": message, "model": "tiny-chat", **extra})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def alice_and_bob(api):
    with from_address(api.url, "127.0.0.2") as alice, from_address(api.url, "127.0.0.3") as bob:
        yield alice, bob


def test_each_ip_sees_only_its_own_conversations(alice_and_bob):
    alice, bob = alice_and_bob
    first = chat(alice, "alice's secret")
    mine, her_reply = first["conversation_id"], first["message"]["id"]
    chat(bob, "bob's note")
    assert [c["title"] for c in alice.get("/api/conversations").json()["conversations"]] == ["alice's secret"]
    assert [c["title"] for c in bob.get("/api/conversations").json()["conversations"]] == ["bob's note"]
    # another IP's conversation does not exist for bob: 404 everywhere, never 403
    for method, path, body in requests_on(mine, her_reply):
        response = bob.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    stored = alice.get(f"/api/conversations/{mine}").json()
    assert stored["title"] == "alice's secret" and len(stored["messages"]) == 2
    # bob's own conversation cannot take alice's message as a parent either
    bobs = bob.get("/api/conversations").json()["conversations"][0]["id"]
    borrowed = bob.post(
        "/api/chat", json={"message": "x", "model": "tiny-chat", "conversation_id": bobs, "parent_id": her_reply}
    )
    assert borrowed.status_code == 404
    assert bob.get("/api/search", params={"q": "secret"}).json() == {"results": []}
    assert [r["message_id"] for r in alice.get("/api/search", params={"q": "secret"}).json()["results"]] == [
        first["user_message"]["id"]
    ]


def test_forged_forwarded_for_is_ignored_without_a_trusted_proxy(alice_and_bob):
    alice, bob = alice_and_bob
    chat(alice, "alice only")
    forged = bob.get("/api/conversations", headers={"X-Forwarded-For": "127.0.0.2"})
    assert forged.json()["conversations"] == []


def test_a_trusted_proxy_forwards_the_client_address(worker, tmp_path):
    config = api_config(f"sqlite:///{tmp_path / 'p.db'}", [worker.url], trusted_proxies=("127.0.0.4",))
    with (
        start_api(config) as api,
        from_address(api.url, "127.0.0.4") as proxy,
        from_address(api.url, "127.0.0.5") as direct,
    ):
        as_carol = {"X-Forwarded-For": "203.0.113.7"}
        as_dave = {"X-Forwarded-For": "198.51.100.9"}
        carol = proxy.post("/api/chat", headers=as_carol, json={"message": "carol", "model": "tiny-chat"}).json()
        proxy.post("/api/chat", headers=as_dave, json={"message": "dave", "model": "tiny-chat"})
        listed = proxy.get("/api/conversations", headers=as_carol).json()["conversations"]
        assert [c["title"] for c in listed] == ["carol"]
        # a client that writes its own header in front of the proxy's hop gains nothing
        spoofed = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
        assert [c["title"] for c in proxy.get("/api/conversations", headers=spoofed).json()["conversations"]] == [
            "carol"
        ]
        # the proxy's own address is just another client, and a direct client cannot pretend to be carol
        assert proxy.get(f"/api/conversations/{carol['conversation_id']}").status_code == 404
        assert direct.get("/api/conversations", headers=as_carol).json()["conversations"] == []


def test_concurrent_chats_from_two_ips_keep_their_history_apart(alice_and_bob):
    from concurrent.futures import ThreadPoolExecutor

    alice, bob = alice_and_bob

    def talk(http: httpx.Client, words: str) -> str:
        conversation_id = chat(http, words)["conversation_id"]
        for _ in range(2):
            chat(http, words, conversation_id=conversation_id)
        return conversation_id

    with ThreadPoolExecutor(max_workers=2) as pool:
        a_id, b_id = pool.map(talk, (alice, bob), ("apples", "bananas"))
    a_messages = alice.get(f"/api/conversations/{a_id}").json()["messages"]
    b_messages = bob.get(f"/api/conversations/{b_id}").json()["messages"]
    assert [m["content"] for m in a_messages if m["role"] == "user"] == ["apples"] * 3
    assert [m["content"] for m in b_messages if m["role"] == "user"] == ["bananas"] * 3
