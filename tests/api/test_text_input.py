"""Text the store or the model server cannot take is a 400 naming the field, not a 500 (or a lost message).

A lone surrogate (`"\\ud800"`) is valid JSON but not UTF-8: sending it on to the worker raised UnicodeEncodeError.
NUL is refused by PostgreSQL's text columns: saving it raised there (SQLite took it, so only one database failed).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)


def post_raw(client, path: str, raw: str):
    return client.post(path, content=raw.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"message": "hi \\ud800", "model": "tiny-chat"}', "message"),
        ('{"message": "hi \\u0000 there", "model": "tiny-chat"}', "message"),
        (
            '{"message": "hi", "model": "tiny-chat", "params": {"system_prompt": "be \\u0000 nice"}}',
            "params.system_prompt",
        ),
        ('{"message": "hi", "model": "tiny-chat", "conversation_id": "ab\\u0000"}', "conversation_id"),
    ],
)
def test_unstorable_text_is_400_and_saves_nothing(client, raw, field):
    response = post_raw(client, "/api/chat", raw)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_field" and error["field"] == field
    assert client.get("/api/conversations").json()["conversations"] == []


def test_rename_with_nul_is_400(client):
    created = client.post(
        "/api/chat", json={"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 2, "temperature": 0}}
    )
    assert created.status_code == 200, created.text
    conversation_id = created.json()["conversation_id"]
    response = client.patch(
        f"/api/conversations/{conversation_id}",
        content=b'{"title": "a\\u0000b"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "title"


def test_ordinary_unicode_still_works(client):
    response = client.post(
        "/api/chat",
        json={
            "message": "Caf\u00e9 \u65e5\u672c \U0001f600",
            "model": "tiny-chat",
            "params": {"max_tokens": 2, "temperature": 0},
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["user_message"]["content"] == "Caf\u00e9 \u65e5\u672c \U0001f600"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database(request, tmp_path):
    from tests.support.api_server import fresh_postgres_database, postgres_server_url

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'text.db'}"
        return
    with fresh_postgres_database(postgres_server_url()) as url:
        yield url


def test_text_from_the_model_server_that_no_database_takes_is_stored_with_replacement_characters(any_database):
    """A model may write NUL (a random one does) or a server send a lone surrogate: PostgreSQL refused the reply
    and its title (a 500, a reply left streaming), SQLite kept a NUL. Both now store U+FFFD in their place, and the
    client is sent what was stored."""
    import httpx

    from llmchat.api.config import TitleSettings
    from tests.api.conftest import read_sse
    from tests.support.api_server import api_config, start_api
    from tests.support.slow_upstream import start_slow_upstream
    from tests.support.waiting import wait_for

    body = {"message": "hi", "model": "slow", "params": {"max_tokens": 2}}
    with (
        start_slow_upstream(delay=0.01, piece="a\x00b\ud800 ") as upstream,
        start_api(api_config(any_database, [upstream], titles=TitleSettings(source="model"))) as api,
        httpx.Client(base_url=api.url, timeout=60) as client,
    ):
        answered = client.post("/api/chat", json=body)
        assert answered.status_code == 200, answered.text
        assert answered.json()["message"]["content"] == "a\ufffdb\ufffd a\ufffdb\ufffd"
        conversation_id = answered.json()["conversation_id"]
        with client.stream("POST", "/api/chat", json={**body, "stream": True}) as response:
            events = dict(read_sse(response))
        assert events["done"]["message"]["content"] == "a\ufffdb\ufffd a\ufffdb\ufffd"
        stored = wait_for(
            lambda: (c := client.get(f"/api/conversations/{conversation_id}").json()) and not c["title_pending"] and c,
            what="the model's title",
        )
        assert "\ufffd" in stored["title"]  # the model's title, stored as U+FFFD where the server sent NUL
        assert stored["messages"][1]["content"] == "a\ufffdb\ufffd a\ufffdb\ufffd"
        assert "\x00" not in stored["title"]
