"""Model-written titles (and their fallback), exports named after them, and full-text search on SQLite and
PostgreSQL. The model server is a real HTTP stand-in that echoes the last message, so texts are predictable."""

from __future__ import annotations

import httpx
import pytest

from llmchat.api.config import ModelSettings, TitleSettings
from llmchat.api.serializers import shorten_title
from tests.api.conftest import read_sse
from tests.api.test_isolation import from_address
from tests.api.test_third_party_server import plain_server
from tests.support.api_server import api_config, fresh_postgres_database, postgres_server_url, start_api
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

KEYED = {"plain-llm": ModelSettings(api_key="sk-test", context_length=4000)}
TITLE_PROMPT_LINE = "echo: Here is the start of a conversation"  # the final full stop is trimmed


MODEL_TITLES = TitleSettings(source="model")


@pytest.fixture
def echo_api(tmp_path):
    with plain_server([]) as url:
        config = api_config(f"sqlite:///{tmp_path / 't.db'}", [url], models=KEYED, titles=MODEL_TITLES)
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=30) as client:
            yield client


def settled(client: httpx.Client, conversation_id: str) -> dict:
    """The conversation once no title is being written for it."""
    return wait_for(
        lambda: (c := client.get(f"/api/conversations/{conversation_id}").json()) and not c["title_pending"] and c,
        what="the title settled",
    )


def test_the_model_titles_a_conversation_after_its_first_exchange(echo_api):
    expected = shorten_title(TITLE_PROMPT_LINE, 60)
    body = echo_api.post("/api/chat", json={"message": "hello there", "model": "plain-llm"}).json()
    conversation_id = body["conversation_id"]
    # the answer does not wait for the title: the first line until the model's is written in the background
    assert body["conversation"]["title"] in ("hello there", expected)
    assert settled(echo_api, conversation_id)["title"] == expected
    echo_api.post("/api/chat", json={"message": "second", "model": "plain-llm", "conversation_id": conversation_id})
    assert settled(echo_api, conversation_id)["title"] == expected  # once only
    with echo_api.stream(
        "POST", "/api/chat", json={"message": "stream it", "model": "plain-llm", "stream": True}
    ) as response:
        events = read_sse(response)
    assert [name for name, _ in events][-1] == "done"  # the stream ends with the reply, not with a title
    assert settled(echo_api, events[0][1]["conversation_id"])["title"] == expected
    export = echo_api.get(f"/api/conversations/{conversation_id}/export")
    assert export.headers["content-disposition"].startswith(
        'attachment; filename="echo-here-is-the-start-of-a-conversation.md"'
    )


def test_a_renamed_conversation_keeps_its_name_and_a_failed_title_keeps_the_first_line(tmp_path):
    with plain_server([]) as url:
        broken = TitleSettings(source="model", model="no-such-model")
        config = api_config(f"sqlite:///{tmp_path / 'f.db'}", [url], models=KEYED, titles=broken)
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=30) as client:
            body = client.post(
                "/api/chat", json={"message": "Plans for the trip\nwith details", "model": "plain-llm"}
            ).json()
            assert body["conversation"]["title"] == "Plans for the trip with details"
            assert settled(client, body["conversation_id"])["title"] == "Plans for the trip with details"
        config = api_config(f"sqlite:///{tmp_path / 'r.db'}", [url], models=KEYED, titles=MODEL_TITLES)
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=30) as client:
            created = client.post("/api/conversations", json={}).json()
            client.patch(f"/api/conversations/{created['id']}", json={"title": "Mine"})
            client.post("/api/chat", json={"message": "hi", "model": "plain-llm", "conversation_id": created["id"]})
            assert settled(client, created["id"])["title"] == "Mine"


def test_first_line_titles_are_the_default_and_final_at_once(tmp_path):
    seen: list[dict] = []
    with plain_server(seen) as url:
        config = api_config(f"sqlite:///{tmp_path / 'd.db'}", [url], models=KEYED, titles=TitleSettings())
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=30) as client:
            body = client.post("/api/chat", json={"message": "Trip to Köln\nwith trains", "model": "plain-llm"}).json()
            assert (
                body["conversation"] | {"title": "Trip to Köln with trains", "title_pending": False}
                == body["conversation"]
            )
    assert len(seen) == 1  # the reply only: no title generation


def check_search(api_url: str) -> None:
    with from_address(api_url, "127.0.0.2") as alice, from_address(api_url, "127.0.0.3") as bob:
        first = alice.post("/api/chat", json={"message": "Where is the Eiffel tower?", "model": "plain-llm"}).json()
        bob.post("/api/chat", json={"message": "Eiffel tower height", "model": "plain-llm"})
        found = alice.get("/api/search", params={"q": "eiffel"}).json()["results"]
        assert {r["message_id"] for r in found} == {first["user_message"]["id"], first["message"]["id"]}
        hit = next(r for r in found if r["role"] == "assistant")
        assert hit["conversation_id"] == first["conversation_id"]
        assert hit["conversation_title"] == first["conversation"]["title"]
        assert [part["text"] for part in hit["snippet"] if part["match"]] == ["Eiffel"]
        assert "".join(part["text"] for part in hit["snippet"]) == "echo: Where is the Eiffel tower?"
        assert [r["role"] for r in alice.get("/api/search", params={"q": "towe wher"}).json()["results"]] != []
        assert alice.get("/api/search", params={"q": "eiffel paris"}).json()["results"] == []
        assert alice.get("/api/search", params={"q": "<b>eiffel</b> OR *"}).status_code == 200
        for bad in ({"q": ""}, {"q": "   "}, {}, {"q": "x", "limit": "0"}, {"q": "x", "limit": "many"}):
            response = alice.get("/api/search", params=bad)
            assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_field", bad
        assert len(alice.get("/api/search", params={"q": "eiffel", "limit": 1}).json()["results"]) == 1


def test_search_over_messages_per_ip_on_sqlite(tmp_path):
    with plain_server([]) as url:
        config = api_config(f"sqlite:///{tmp_path / 's.db'}", [url], models=KEYED)
        with start_api(config) as api:
            check_search(api.url)


@pytest.mark.postgres
def test_search_over_messages_per_ip_on_postgresql():
    server_url = postgres_server_url()
    with plain_server([]) as url, fresh_postgres_database(server_url) as database_url:
        with start_api(api_config(database_url, [url], models=KEYED)) as api:
            check_search(api.url)
