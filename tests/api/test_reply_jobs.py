"""A reply is a server-side job, on real processes: two `llmchat serve` (gunicorn) on one SQLite database and a
worker whose tiny model writes long replies.

- a client that hangs up does not stop the reply; it is followed through the other API process from the last
  event id it saw (Last-Event-ID), and the two halves are exactly the saved reply; `?after=0` replays it all;
- a page showing the reply's saved text (a reload) follows on past it (`?shown=`): nothing replayed, nothing lost;
- the conversation list of either process says `answering` while the reply is written;
- Stop, asked of the process that does not run the job, stops it (saved `stopped`, the worker's request cancelled);
- one identity's jobs are bounded (429 naming the limit) and a job keeps its slot after its client left;
- a reply's stream is refused for a user message, a malformed offset, and someone else's message.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_nothing_lost import MODEL, cancelled, idle, long_worker, serve_config  # noqa: F401 (fixture)
from tests.support.api_server import from_address, start_serve_process
from tests.support.sse import iter_sse_with_ids
from tests.support.waiting import wait_for

SOME = {"max_tokens": 1500}  # a few seconds of generation: long enough to leave, come back and follow the rest
ENDLESS = {"max_tokens": 4000}  # about 15 s: only Stop ends it within a test


@pytest.fixture(scope="module")
def two_apis(long_worker, tmp_path_factory):  # noqa: F811 (the fixture imported above)
    database = tmp_path_factory.mktemp("shared") / "api.db"
    config = serve_config(f"sqlite:///{database}", long_worker.url)
    with start_serve_process(config) as first, start_serve_process(config) as second:
        yield first, second


def start_and_hang_up(url: str, body: dict) -> tuple[dict, list[tuple[int | None, str, dict]]]:
    """POST a streamed chat, read its start and first delta, then hang up like a closed tab."""
    seen = []
    with httpx.Client(base_url=url, timeout=60) as client:
        with client.stream("POST", "/api/chat", json={**body, "stream": True}) as response:
            assert response.status_code == 200, response.read()
            for event in iter_sse_with_ids(response.iter_lines()):
                seen.append(event)
                if event[1] == "delta":
                    break
    assert seen[0][1] == "start" and all(event_id for event_id, _, _ in seen)
    return seen[0][2], seen


def follow(url: str, reply_id: int, **request) -> list[tuple[int | None, str, dict]]:
    with httpx.Client(base_url=url, timeout=60) as client:
        with client.stream("GET", f"/api/messages/{reply_id}/stream", **request) as response:
            assert response.status_code == 200, response.read()
            return list(iter_sse_with_ids(response.iter_lines()))


def text_of(events) -> str:
    return "".join(data["content"] for _, name, data in events if name == "delta")


def answering(url: str, conversation_id: str) -> bool:
    listed = httpx.get(f"{url}/api/conversations", timeout=30).json()["conversations"]
    return next(c["answering"] for c in listed if c["id"] == conversation_id)


def test_a_reply_started_on_one_api_goes_on_and_is_followed_through_the_other(two_apis):
    first, second = two_apis
    start, seen = start_and_hang_up(first.url, {"message": "tell me more", "model": MODEL, "params": SOME})
    reply_id, conversation_id = start["message"]["id"], start["conversation_id"]
    assert answering(second.url, conversation_id) and answering(first.url, conversation_id)

    rest = follow(second.url, reply_id, headers={"Last-Event-ID": str(seen[-1][0])})
    assert [name for _, name, _ in rest][-1] == "done" and "start" not in [name for _, name, _ in rest]
    assert rest[0][0] > seen[-1][0]  # nothing seen twice
    final = rest[-1][2]["message"]
    assert (final["status"], final["finish_reason"]) == ("complete", "length")
    assert text_of(seen) + text_of(rest) == final["content"]  # nothing lost between the two processes
    assert final["usage"]["completion_tokens"] == SOME["max_tokens"]

    replay = follow(first.url, reply_id, params={"after": 0})
    assert replay[0][1] == "start" and replay[-1][1] == "done" and text_of(replay) == final["content"]
    assert not answering(second.url, conversation_id)
    shown = httpx.get(f"{second.url}/api/conversations/{conversation_id}", timeout=30).json()["messages"]
    assert [(m["status"], m["content"]) for m in shown] == [
        ("complete", "tell me more"),
        ("complete", final["content"]),
    ]


def test_a_page_showing_the_saved_text_follows_on_from_it(two_apis):
    first, second = two_apis
    start, _ = start_and_hang_up(first.url, {"message": "and then?", "model": MODEL, "params": SOME})
    reply_id, conversation_id = start["message"]["id"], start["conversation_id"]

    def saved_text() -> str:
        shown = httpx.get(f"{second.url}/api/conversations/{conversation_id}", timeout=30).json()["messages"][-1]
        assert shown["status"] == "streaming", "the reply ended before its text was saved mid-way"
        return shown["content"]

    saved = wait_for(saved_text, what="the reply's text saved while it is written")
    rest = follow(second.url, reply_id, params={"shown": len(saved)})
    assert rest[0][:2] == (None, "start")  # the page's text is further on than the start event
    deltas = [event for event in rest if event[1] == "delta"]
    assert deltas and all(event_id for event_id, _, _ in deltas)
    final = rest[-1][2]["message"]
    assert rest[-1][1] == "done" and saved + text_of(rest) == final["content"]
    # from the first delta on, an event id matches the text: Last-Event-ID resumes exactly from there
    again = follow(first.url, reply_id, headers={"Last-Event-ID": str(deltas[0][0])})
    assert saved + deltas[0][2]["content"] + text_of(again) == final["content"]


def test_stop_through_the_other_api_stops_the_job(two_apis, long_worker):  # noqa: F811
    first, second = two_apis
    before = cancelled(long_worker)
    start, _ = start_and_hang_up(first.url, {"message": "go on forever", "model": MODEL, "params": ENDLESS})
    reply_id, conversation_id = start["message"]["id"], start["conversation_id"]

    def saved_text() -> str:
        shown = httpx.get(f"{second.url}/api/conversations/{conversation_id}", timeout=30).json()["messages"]
        assert shown[-1]["status"] == "streaming"
        return shown[-1]["content"]

    earlier = wait_for(saved_text, what="the reply being saved")
    wait_for(lambda: len(saved_text()) > len(earlier), what="the reply growing with nobody connected")

    stopped = httpx.post(f"{second.url}/api/messages/{reply_id}/stop", json={}, timeout=30)
    assert stopped.status_code == 200, stopped.text
    message = stopped.json()["message"]
    assert (message["status"], message["finish_reason"]) == ("stopped", None)
    assert 0 < message["usage"]["completion_tokens"] < ENDLESS["max_tokens"]
    wait_for(lambda: cancelled(long_worker) > before, what="the worker cancelling the generation")
    wait_for(lambda: idle(long_worker), what="the worker becoming idle")
    # its stream, from anywhere, ends with the stopped reply; stopping it again changes nothing
    assert follow(first.url, reply_id)[-1][2]["message"]["status"] == "stopped"
    again = httpx.post(f"{first.url}/api/messages/{reply_id}/stop", json={}, timeout=30)
    assert again.status_code == 200 and again.json()["message"]["content"] == message["content"]


def test_an_identitys_jobs_are_bounded_and_keep_their_slot_after_the_client_left(long_worker, tmp_path):  # noqa: F811
    config = serve_config(f"sqlite:///{tmp_path / 'bounded.db'}", long_worker.url)
    config["limits"] = {"rate_limit_requests": 0, "max_concurrent_per_ip": 1}
    with start_serve_process(config) as api:
        start, _ = start_and_hang_up(api.url, {"message": "first", "model": MODEL, "params": ENDLESS})
        refused = httpx.post(f"{api.url}/api/chat", json={"message": "second", "model": MODEL}, timeout=30)
        assert refused.status_code == 429, refused.text
        error = refused.json()
        assert error["error"]["code"] == "too_many_generations" and error["limit"] == "max_concurrent_per_ip"
        assert "limits.max_concurrent_per_ip" in error["error"]["message"] and refused.headers["Retry-After"]
        with from_address(api.url, "127.0.0.2") as someone_else:  # another identity has its own share
            other = someone_else.post(
                "/api/chat", json={"message": "mine", "model": MODEL, "params": {"max_tokens": 3}}
            )
            assert other.status_code == 200, other.text
            # ... and cannot follow or stop this identity's reply
            assert someone_else.get(f"/api/messages/{start['message']['id']}/stream").status_code == 404
            assert someone_else.post(f"/api/messages/{start['message']['id']}/stop", json={}).status_code == 404
        assert (
            httpx.post(f"{api.url}/api/messages/{start['message']['id']}/stop", json={}, timeout=30).status_code == 200
        )
        after = httpx.post(
            f"{api.url}/api/chat", json={"message": "now", "model": MODEL, "params": {"max_tokens": 3}}, timeout=60
        )
        assert after.status_code == 200, after.text


def test_a_reply_stream_refuses_what_is_not_one(two_apis):
    first, _ = two_apis
    with httpx.Client(base_url=first.url, timeout=60) as client:
        done = client.post("/api/chat", json={"message": "short", "model": MODEL, "params": {"max_tokens": 3}}).json()
        user_id, reply_id = done["user_message"]["id"], done["message"]["id"]
        refused = client.get(f"/api/messages/{user_id}/stream")
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "not_a_reply")
        assert client.post(f"/api/messages/{user_id}/stop", json={}).status_code == 400
        bad = client.get(f"/api/messages/{reply_id}/stream", headers={"Last-Event-ID": "yesterday"})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "Last-Event-ID")
        bad = client.get(f"/api/messages/{reply_id}/stream", params={"after": "-1"})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "after")
        bad = client.get(f"/api/messages/{reply_id}/stream", params={"shown": "a few"})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "shown")
        bad = client.get(f"/api/messages/{reply_id}/stream", params={"shown": 3, "after": 2})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "shown")
        assert client.get("/api/messages/999999/stream").status_code == 404
    # a finished reply's stream is its events, ending with done (or, once they are gone, that one done)
    events = follow(first.url, reply_id)
    assert events[-1][1] == "done" and events[-1][2]["message"]["content"] == done["message"]["content"]
