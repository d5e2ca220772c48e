"""Model-written titles are made after the reply and only while the model server is idle, so they never slow the
user's next message: a title waits while the model server is generating for someone else, and a title being written
gives way (its request is closed) when the same API sends that server a user's message. Junk a small model writes
about titles is never stored."""

from __future__ import annotations

import threading

import httpx
import pytest

from llmchat.api.config import TitleSettings
from llmchat.api.titles import clean_title
from tests.support.api_server import api_config, start_api
from tests.support.slow_upstream import start_slow_upstream
from tests.support.waiting import wait_for

MODEL_TITLES = TitleSettings(source="model")


def conversation(client: httpx.Client, conversation_id: str) -> dict:
    return client.get(f"/api/conversations/{conversation_id}").json()


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ("Title: Trip to Paris", "Trip to Paris"),
        ('"Baking bread at home"\nMore text', "Baking bread at home"),
        ("The correct title would be 'Paris'", ""),
        ("Here is a title for this conversation:", ""),
        ("A title: pleasure", ""),
        ("  \n**", ""),
    ],
)
def test_a_line_about_titles_is_no_title(written, title):
    assert clean_title(written, 60) == title


@pytest.mark.integration  # a stand-in model server on a socket
def test_a_title_waits_until_the_server_is_idle(tmp_path):
    """Someone else's long reply keeps the model server busy (its /health counts it as active): the first
    exchange's title is not asked for while it runs, and is written as soon as it ends."""
    with start_slow_upstream(delay=0.05) as upstream:
        config = api_config(f"sqlite:///{tmp_path / 'idle.db'}", [upstream], titles=MODEL_TITLES)
        long_body = {"model": "slow", "messages": [{"role": "user", "content": "go on"}], "max_tokens": 400}
        with (
            start_api(config) as api,
            httpx.Client(base_url=api.url, timeout=60) as client,
            httpx.Client(base_url=upstream, timeout=60) as other,
        ):
            open_streams = lambda: other.get("/stats").json()["open_streams"]  # noqa: E731
            with other.stream("POST", "/v1/chat/completions", json={**long_body, "stream": True}) as busy:
                lines = busy.iter_lines()
                next(line for line in lines if line.startswith("data:"))  # generating now
                chat = {"message": "Name a fruit", "model": "slow", "params": {"max_tokens": 2}}
                body = client.post("/api/chat", json=chat).json()
                conversation_id = body["conversation_id"]
                assert body["conversation"]["title"] == "Name a fruit"
                for _ in range(20):  # 1 s more of the server busy: no title request beside the long reply
                    next(lines)
                    assert open_streams() == 1
                    assert conversation(client, conversation_id)["title_pending"] is True
            # the long reply's client went away, so it stopped: the server is idle and the title comes
            titled = wait_for(
                lambda: (c := conversation(client, conversation_id)) and not c["title_pending"] and c,
                what="the title written once idle",
            )
            assert titled["title"].startswith("x x x")  # the model server's words, not the first line


@pytest.mark.integration  # a stand-in model server on a socket
def test_a_title_being_written_gives_way_to_a_users_message(tmp_path):
    """A title (200 slow pieces) is being written when the user sends the next message: the title's request is
    closed at its next piece, so the message has the server to itself; the title is written again afterwards."""
    titles = TitleSettings(source="model", max_tokens=200)
    with start_slow_upstream(delay=0.05) as upstream:
        config = api_config(f"sqlite:///{tmp_path / 'way.db'}", [upstream], titles=titles)
        with (
            start_api(config) as api,
            httpx.Client(base_url=api.url, timeout=60) as client,
            httpx.Client(base_url=upstream, timeout=10) as upstream_stats,
        ):
            stats = lambda: upstream_stats.get("/stats").json()  # noqa: E731
            first = client.post("/api/chat", json={"message": "first", "model": "slow", "params": {"max_tokens": 2}})
            conversation_id = first.json()["conversation_id"]
            wait_for(lambda: stats() == {"open_streams": 1, "streams_started": 2}, what="the title being written")
            answered: list[httpx.Response] = []
            # the next message of the same conversation (a new one would queue a title of its own)
            message = {
                "message": "next",
                "model": "slow",
                "params": {"max_tokens": 60},
                "conversation_id": conversation_id,
            }
            sender = threading.Thread(target=lambda: answered.append(client.post("/api/chat", json=message)))
            sender.start()
            wait_for(lambda: stats()["streams_started"] == 3, what="the user's message sent")
            # the title gave way: only the user's message streams while it is written (60 pieces, 3 s)
            wait_for(lambda: stats()["open_streams"] == 1, timeout=2.0, what="the title's request closed")
            assert not answered
            sender.join(30)
            assert answered and answered[0].status_code == 200
            assert conversation(client, conversation_id)["title"] == "first"
            titled = wait_for(
                lambda: (c := conversation(client, conversation_id)) and not c["title_pending"] and c,
                what="the title written after the message",
            )
            assert titled["title"].startswith("x x x") and stats()["streams_started"] == 4


def test_first_line_titles_are_the_shipped_default_and_the_choice_is_checked(tmp_path):
    from llmchat.api.config import load_config
    from llmchat.paths import config_dir

    shipped = load_config(config_dir() / "app.yaml", environ={})
    assert shipped.titles.source == "first_line"  # SmolLM2-135M, the shipped model, is too small to title well
    assert load_config(tmp_path / "missing.yaml", environ={}).titles == shipped.titles  # one set of defaults
    assert load_config(tmp_path / "missing.yaml", environ={"LLMCHAT_TITLES": "model"}).titles.source == "model"
    path = tmp_path / "app.yaml"
    path.write_text("titles: {source: smart}\n")
    with pytest.raises(ValueError, match=r"titles\.source"):
        load_config(path, environ={})
