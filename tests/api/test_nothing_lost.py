"""Nothing is lost, on real processes: `llmchat serve` (gunicorn) and a worker whose tiny model writes long replies.

- the API killed with SIGKILL mid-stream leaves a `stopped` reply with the text saved so far: its stream, on the
  restarted API, ends with it (the job is found dead), and it can be continued;
- a regenerate stopped after a second keeps the complete reply it would have replaced;
- two concurrent regenerates leave two versions;
- deleting a conversation mid-stream ends the stream with an event and cancels the worker's generation;
- a non-streamed chat whose client hangs up goes on being written, until Stop.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from llmchat.store import ChatStore, open_database
from tests.api.conftest import read_sse
from tests.support.api_server import start_serve_process
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml
from tests.support.waiting import wait_for

MODEL = "tiny-long"
LONG = {"max_tokens": 4000}  # about 15 s of generation: far longer than any of these tests waits
SAVE_INTERVAL_S = 0.5
STALE_AFTER_S = 3.0


@pytest.fixture(scope="module")
def long_worker(tmp_path_factory):
    """A chat model with a 4096-token context that never stops early (ignore_eos is sent by the API)."""
    folder = tmp_path_factory.mktemp("long")
    model = make_tiny_model(folder / "model", max_position_embeddings=4096)
    entry = {
        "id": MODEL,
        "kind": "chat",
        "source": str(model),
        "prompt_style": "chat",
        "context_length": 4096,
        "default_params": {"temperature": 0.0, "top_p": 1.0, "max_tokens": 16},
    }
    # the transformers engine: OpenVINO writes the tiny model's 4000 tokens in ~3 s, too fast for "still writing"
    path = write_models_yaml(
        folder / "models.yaml", [entry], worker={"max_batch_size": 4, "max_queue": 16, "engine": "transformers"}
    )
    with start_worker(path) as worker:
        yield worker


def serve_config(database_url: str, worker_url: str) -> dict:
    return {
        "database_url": database_url,
        "worker_urls": [worker_url],
        "frontend_dist": "/nonexistent",
        "log_level": "WARNING",
        "limits": {"rate_limit_requests": 0},
        "titles": {"source": "first_line"},
        "replies": {"save_interval_s": SAVE_INTERVAL_S, "stale_after_s": STALE_AFTER_S},
        "models": {MODEL: {"extra_body": {"ignore_eos": True}}},
    }


@pytest.fixture(scope="module")
def served(long_worker, tmp_path_factory):
    database = tmp_path_factory.mktemp("served") / "api.db"
    with start_serve_process(serve_config(f"sqlite:///{database}", long_worker.url)) as api:
        yield api


@pytest.fixture
def client(served):
    with httpx.Client(base_url=served.url, timeout=60) as http:
        yield http


def cancelled(worker) -> int:
    engines = httpx.get(f"{worker.url}/health", timeout=10).json()["engines"]
    return sum(engine["stats"]["cancelled"] for engine in engines)


def idle(worker) -> bool:
    health = httpx.get(f"{worker.url}/health", timeout=10).json()
    return health["queue_depth"] == 0 and health["active"] == 0


def stream_until(client: httpx.Client, url: str, body: dict, seconds: float) -> tuple[list[tuple[str, dict]], str]:
    """Stream for `seconds`, then hang up like a closed tab: (events seen, text received)."""
    events: list[tuple[str, dict]] = []
    with client.stream("POST", url, json={**body, "stream": True}) as response:
        assert response.status_code == 200, response.read()
        started = time.monotonic()
        name = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:") and name:
                events.append((name, json.loads(line[5:])))
            if time.monotonic() - started >= seconds and any(n == "delta" for n, _ in events):
                break
    return events, "".join(data["content"] for name, data in events if name == "delta")


def messages(client: httpx.Client, conversation_id: str) -> list[dict]:
    return client.get(f"/api/conversations/{conversation_id}").json()["messages"]


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_api_killed_mid_stream_leaves_a_stopped_reply_with_its_text(long_worker, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'killed.db'}"
    config = serve_config(database_url, long_worker.url)
    with start_serve_process(config) as api, httpx.Client(base_url=api.url, timeout=60) as client:
        with client.stream(
            "POST", "/api/chat", json={"message": "tell me everything", "model": MODEL, "stream": True, "params": LONG}
        ) as response:
            lines = response.iter_lines()
            received = ""
            started = None
            for line in lines:
                if line.startswith('data: {"content"'):
                    received += json.loads(line[5:])["content"]
                    started = started or time.monotonic()
                elif line.startswith("data:") and '"user_message"' in line:
                    conversation_id = line.split('"conversation_id": "')[1].split('"')[0]
                if started and time.monotonic() - started > 4 * SAVE_INTERVAL_S:
                    break
            for pid in children_of(api.process.pid):  # the gunicorn worker streaming the reply, then its master
                os.kill(pid, signal.SIGKILL)
            api.process.send_signal(signal.SIGKILL)
            api.process.wait(timeout=10)
            try:  # whatever the server sent before it died
                for line in lines:
                    if line.startswith('data: {"content"'):
                        received += json.loads(line[5:])["content"]
            except httpx.HTTPError:
                pass
    wait_for(lambda: idle(long_worker), what="the worker noticing the dead connection")
    time.sleep(STALE_AFTER_S)
    database = open_database(database_url, migrate=False)
    try:
        record = ChatStore(database, stale_after_s=STALE_AFTER_S).get_conversation("ip:127.0.0.1", conversation_id)
    finally:
        database.dispose()
    user, reply = record.messages
    assert (user.status, reply.status, reply.finish_reason) == ("complete", "stopped", None)
    assert reply.content and received.startswith(reply.content)  # what was saved is what the client saw
    # a restarted API shows it, and Continue (the UI's retry) extends the same reply
    with start_serve_process(config) as api, httpx.Client(base_url=api.url, timeout=60) as client:
        shown = messages(client, conversation_id)
        assert [(m["status"], m["content"]) for m in shown][1] == ("stopped", reply.content)
        with client.stream("GET", f"/api/messages/{reply.id}/stream") as followed:
            events = read_sse(followed)
        # the dead job's log, then the end its first follower gave it: the reply as it was saved
        assert events[0][0] == "start" and events[-1][0] == "done"
        assert (events[-1][1]["message"]["status"], events[-1][1]["message"]["content"]) == ("stopped", reply.content)
        logged = "".join(data["content"] for name, data in events if name == "delta")
        # the log holds at least what was saved, and it is the text the client was sent (it may have read less)
        assert logged.startswith(reply.content) and (logged.startswith(received) or received.startswith(logged))
        assert not client.get("/api/conversations").json()["conversations"][0]["answering"]
        more = client.post(f"/api/messages/{reply.id}/continue", json={"params": {"max_tokens": 5}})
        assert more.status_code == 200, more.text
        continued = more.json()["message"]
        assert continued["id"] == reply.id and continued["content"].startswith(reply.content)
        assert (continued["status"], continued["finish_reason"]) == ("complete", "length")


def test_a_regenerate_stopped_after_a_second_keeps_the_earlier_reply(client):
    first = client.post("/api/chat", json={"message": "hi", "model": MODEL, "params": {"max_tokens": 30}}).json()
    earlier = first["message"]
    url = f"/api/conversations/{first['conversation_id']}/regenerate"
    events, received = stream_until(client, url, {"params": LONG}, seconds=1.0)
    new_id = events[0][1]["message"]["id"]
    assert client.post(f"/api/messages/{new_id}/stop", json={}).status_code == 200

    def settled():
        shown = messages(client, first["conversation_id"])
        return shown if shown[-1]["status"] != "streaming" else None

    shown = wait_for(settled, what="the stopped regenerate being saved")
    assert [m["id"] for m in shown] == [first["user_message"]["id"], new_id]
    assert shown[1]["status"] == "stopped" and shown[1]["content"].startswith(received[:20])
    assert shown[1]["sibling_ids"] == [earlier["id"], new_id]
    back = client.put(f"/api/conversations/{first['conversation_id']}/current", json={"message_id": earlier["id"]})
    kept = back.json()["messages"][1]
    assert (kept["id"], kept["status"], kept["content"]) == (earlier["id"], "complete", earlier["content"])


def test_two_concurrent_regenerates_leave_two_versions(client):
    first = client.post("/api/chat", json={"message": "hi", "model": MODEL, "params": {"max_tokens": 20}}).json()
    url = f"/api/conversations/{first['conversation_id']}/regenerate"
    results: list[httpx.Response] = []
    barrier = threading.Barrier(2)

    def regenerate():
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            barrier.wait(timeout=10)
            results.append(own.post(url, json={"params": {"max_tokens": 300}}))

    threads = [threading.Thread(target=regenerate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    new_ids = sorted(r.json()["message"]["id"] for r in results)
    shown = messages(client, first["conversation_id"])
    assert len(shown) == 2 and shown[1]["sibling_ids"] == [first["message"]["id"], *new_ids]
    assert all(m["status"] == "complete" for m in shown)


def test_deleting_a_conversation_mid_stream_ends_the_stream_and_the_generation(client, long_worker):
    before = cancelled(long_worker)
    seen: list[tuple[str, dict]] = []
    with client.stream(
        "POST", "/api/chat", json={"message": "go on", "model": MODEL, "stream": True, "params": LONG}
    ) as response:
        started = time.monotonic()
        text = ""
        for line in response.iter_lines():
            text += line + "\n"
            if line.startswith('data: {"content"') and not seen:
                conversation_id = text.split('"conversation_id": "')[1].split('"')[0]
                with httpx.Client(base_url=client.base_url, timeout=30) as other_tab:
                    assert other_tab.delete(f"/api/conversations/{conversation_id}").status_code == 204
                seen.append(("deleted", {}))
        ended_after = time.monotonic() - started
    events = read_sse(httpx.Response(200, content=text.encode()))
    assert events[0][0] == "start" and events[-1][0] == "error"
    assert events[-1][1]["error"]["code"] == "not_found" and events[-1][1]["message"] is None
    assert ended_after < 10  # ended within a save interval or so, not after the whole 4000-token reply
    wait_for(lambda: cancelled(long_worker) > before, what="the worker cancelling the generation")
    wait_for(lambda: idle(long_worker), what="the worker becoming idle")
    assert client.get(f"/api/conversations/{conversation_id}").status_code == 404


def test_a_non_streamed_chat_whose_client_hangs_up_goes_on_until_stopped(client, served, long_worker):
    before = cancelled(long_worker)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{served.url}/api/chat",
            json={"message": "write a book", "model": MODEL, "params": LONG},
            timeout=httpx.Timeout(1.5, connect=5),
        )
    conversation = wait_for(lambda: client.get("/api/conversations").json()["conversations"], what="the chat")
    newest = conversation[0]["id"]
    assert conversation[0]["answering"]

    def written() -> str:
        shown = messages(client, newest)
        return shown[1]["content"] if len(shown) == 2 and shown[1]["status"] == "streaming" else ""

    earlier = wait_for(written, what="the reply being saved")
    wait_for(lambda: len(written()) > len(earlier), what="the reply growing after its client left")
    reply_id = messages(client, newest)[1]["id"]
    assert client.post(f"/api/messages/{reply_id}/stop", json={}).json()["message"]["status"] == "stopped"

    def stopped():
        shown = messages(client, newest)
        return shown if len(shown) == 2 and shown[1]["status"] == "stopped" else None

    user, reply = wait_for(stopped, timeout=10, what="the reply being saved as stopped")
    assert user["content"] == "write a book" and user["status"] == "complete"
    assert 0 < reply["usage"]["completion_tokens"] < 3000 and reply["content"]
    wait_for(lambda: cancelled(long_worker) > before, what="the worker cancelling the generation")
    wait_for(lambda: idle(long_worker), what="the worker becoming idle")


def test_deleting_a_conversation_while_a_non_streamed_reply_is_written_is_404(client, long_worker):
    first = client.post("/api/chat", json={"message": "hi", "model": MODEL, "params": {"max_tokens": 4}}).json()
    before = cancelled(long_worker)
    answer: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answer.append(
            client.post(
                "/api/chat",
                json={
                    "message": "a long one",
                    "model": MODEL,
                    "conversation_id": first["conversation_id"],
                    "params": LONG,
                },
            )
        )
    )
    waiting.start()
    time.sleep(1.5)
    with httpx.Client(base_url=client.base_url, timeout=30) as other_tab:
        assert other_tab.delete(f"/api/conversations/{first['conversation_id']}").status_code == 204
    waiting.join(timeout=30)
    assert answer and answer[0].status_code == 404, answer
    assert answer[0].json()["error"]["code"] == "not_found"
    wait_for(lambda: cancelled(long_worker) > before, what="the worker cancelling the generation")
