"""POST /api/chat through the handlers: the streamed and the JSON answer, what is saved, and every model-server
failure answered in the one error shape, with the user's words kept."""

from __future__ import annotations

from llmchat.modelclient import WorkerRejected, WorkerUnavailable
from tests.api_fast.helpers import chat, error_of, events
from tests.support.fake_model import FAKE_URL
from tests.support.waiting import wait_for


def test_a_streamed_turn_sends_the_pieces_and_saves_the_reply(client, model):
    model.reply("The answer", " is", " 42.")
    response = client.post("/api/chat", json={"message": "What is it?", "model": "tiny-chat", "stream": True})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    answer = events(response)
    names = [name for name, _ in answer]
    assert names[0] == "start" and names[-1] == "done", names
    start, done = answer[0][1], answer[-1][1]
    assert start["user_message"]["content"] == "What is it?" and start["message"]["status"] == "streaming"
    assert "".join(data["content"] for name, data in answer if name == "delta") == "The answer is 42."
    assert done["message"]["content"] == "The answer is 42." and done["message"]["status"] == "complete"
    assert done["message"]["finish_reason"] == "stop" and done["message"]["usage"]["completion_tokens"] == 5
    saved = client.get(f"/api/conversations/{done['conversation_id']}").get_json()
    assert [(m["role"], m["content"], m["status"]) for m in saved["messages"]] == [
        ("user", "What is it?", "complete"),
        ("assistant", "The answer is 42.", "complete"),
    ]
    sent = model.generations()[0]
    assert sent.path == "/v1/chat/completions" and sent.payload["model"] == "tiny-chat"
    assert sent.payload["messages"][-1] == {"role": "user", "content": "What is it?"}
    assert sent.payload["max_tokens"] == 8 and sent.payload["temperature"] == 0.0


def test_the_json_answer_has_both_messages_and_the_summary(client, model):
    model.reply("Fine, thanks.", finish_reason="length")
    answer = chat(client, "How are you?")
    assert answer["user_message"]["content"] == "How are you?"
    assert answer["message"]["content"] == "Fine, thanks." and answer["message"]["finish_reason"] == "length"
    assert answer["conversation"]["id"] == answer["conversation_id"]
    assert answer["conversation"]["title"] == "How are you?" and answer["conversation"]["message_count"] == 2


def test_a_base_model_gets_a_text_prompt_with_the_history(client, model):
    first = chat(client, "Name a colour.", model="tiny-fewshot")
    chat(client, "Another one?", model="tiny-fewshot", conversation_id=first["conversation_id"])
    sent = model.generations()[-1]
    assert sent.path == "/v1/completions" and "messages" not in sent.payload
    prompt = sent.payload["prompt"]
    assert prompt.index("Name a colour.") < prompt.index("Hello from the fake model.") < prompt.index("Another one?")
    assert sent.payload["stop"], "a few-shot prompt stops at the next turn marker"


def test_no_server_answering_is_503_and_keeps_the_message(client, model):
    model.down.add(FAKE_URL)
    response = client.post("/api/chat", json={"message": "Still there?", "model": "tiny-chat"})
    error = error_of(response)
    assert response.status_code == 503 and error["code"] == "worker_unavailable"
    assert response.headers["Retry-After"] == "5"
    kept = response.get_json()["user_message"]
    assert (kept["content"], kept["status"]) == ("Still there?", "error")
    saved = client.get(f"/api/conversations/{response.get_json()['conversation_id']}").get_json()
    assert [(m["role"], m["status"]) for m in saved["messages"]] == [("user", "error")]


def test_a_refused_request_keeps_the_servers_status_where_it_means_something(client, model):
    for refusal, status in ((WorkerRejected(400, "prompt too long"), 400), (WorkerRejected(500, "boom"), 502)):
        model.fail_next(refusal)
        response = client.post("/api/chat", json={"message": "hi", "model": "tiny-chat", "stream": True})
        error = error_of(response)  # refused before the stream opens: JSON, not SSE
        assert response.status_code == status and error["code"] == "worker_rejected"
        assert refusal.message in error["message"]
        assert response.get_json()["user_message"]["status"] == "error"
        saved = client.get(f"/api/conversations/{response.get_json()['conversation_id']}").get_json()
        assert [m["role"] for m in saved["messages"]] == ["user"], "no empty reply row is left"


def test_a_busy_server_is_asked_again(client, model):
    model.fail_next(WorkerRejected(503, "queue full", retry_after="0", code="queue_full"))
    model.reply("after the wait")
    assert chat(client)["message"]["content"] == "after the wait"
    assert len(model.generations()) == 2


def test_a_failure_mid_stream_keeps_the_text_so_far(client, model):
    model.reply("Half an", " answer", fail_with=WorkerUnavailable("the model server stopped mid-reply"))
    answer = events(client.post("/api/chat", json={"message": "Go on", "model": "tiny-chat", "stream": True}))
    name, data = answer[-1]
    assert name == "error" and data["error"]["code"] == "worker_unavailable"
    assert data["message"]["content"] == "Half an answer" and data["message"]["status"] == "error"
    saved = client.get(f"/api/conversations/{data['conversation_id']}").get_json()
    assert [(m["role"], m["status"]) for m in saved["messages"]] == [("user", "error"), ("assistant", "error")]


def test_a_failure_mid_reply_without_streaming_is_the_same_error_shape(client, model):
    model.reply("Partial", fail_with=WorkerRejected(500, "out of memory"))
    response = client.post("/api/chat", json={"message": "Go on", "model": "tiny-chat"})
    error = error_of(response)
    assert response.status_code == 502 and error["code"] == "worker_rejected" and "out of memory" in error["message"]
    body = response.get_json()
    assert body["message"]["content"] == "Partial" and body["user_message"]["content"] == "Go on"


def test_a_reply_with_no_text_before_the_failure_is_not_kept(client, model):
    model.reply(fail_with=WorkerUnavailable("gone"), pieces=())
    response = client.post("/api/chat", json={"message": "Anyone?", "model": "tiny-chat"})
    assert response.status_code == 503 and error_of(response)["code"] == "worker_unavailable"
    saved = client.get(f"/api/conversations/{response.get_json()['conversation_id']}").get_json()
    assert [(m["role"], m["status"]) for m in saved["messages"]] == [("user", "error")]


def _last_reply_when_settled(client) -> dict:
    conversation_id = client.get("/api/conversations").get_json()["conversations"][0]["id"]

    def settled():
        reply = client.get(f"/api/conversations/{conversation_id}").get_json()["messages"][-1]
        return reply if reply["status"] != "streaming" else None

    return wait_for(settled, timeout=10)


def _leave_after_first_words(client) -> None:
    """Start a streamed turn, read until the first piece, hang up."""
    response = client.post(
        "/api/chat", json={"message": "Tell me", "model": "tiny-chat", "stream": True}, buffered=False
    )
    chunks = response.response
    received = ""
    while "First words" not in received:
        received += next(chunks).decode()
    response.close()  # what the WSGI server does when the client's socket ends


def test_the_client_leaving_mid_stream_does_not_stop_the_reply(client, model):
    held = model.reply("First words", " and the rest", hold_after=1)
    _leave_after_first_words(client)
    assert not model.streams[-1].aborted, "a reply is a job of the server: the page leaving does not end it"
    held.release.set()
    reply = _last_reply_when_settled(client)
    assert (reply["content"], reply["status"]) == ("First words and the rest", "complete")


def test_stop_ends_the_reply_and_the_model_request(client, model):
    held = model.reply("First words", " never sent", hold_after=1)
    _leave_after_first_words(client)
    conversation_id = client.get("/api/conversations").get_json()["conversations"][0]["id"]
    reply_id = client.get(f"/api/conversations/{conversation_id}").get_json()["messages"][-1]["id"]
    stopped = client.post(f"/api/messages/{reply_id}/stop")
    assert stopped.status_code in (200, 202), stopped.get_json()
    wait_for(lambda: model.streams[-1].aborted, timeout=10)
    held.release.set()
    reply = _last_reply_when_settled(client)
    assert (reply["content"], reply["status"]) == ("First words", "stopped")


def test_a_turn_reads_the_conversation_once(client, model, monkeypatch):
    """route → turn (built from one read) → router → model client → job → store: nothing on the way reads the
    conversation's messages again (parent, memory and prompt all come from the one read)."""
    import llmchat.store.repository as repository

    first = chat(client, "Name a colour.")
    reads: list[str] = []
    real = repository.conversation_messages

    def counted(session, conversation_id):
        reads.append(conversation_id)
        return real(session, conversation_id)

    monkeypatch.setattr(repository, "conversation_messages", counted)
    body = {
        "message": "Another one?",
        "model": "tiny-chat",
        "stream": True,
        "conversation_id": first["conversation_id"],
    }
    answer = events(client.post("/api/chat", json=body))
    assert answer[-1][0] == "done"
    assert reads == [first["conversation_id"]]
    sent = model.generations()[-1].payload["messages"]
    assert [m["content"] for m in sent] == ["Name a colour.", "Hello from the fake model.", "Another one?"]


def test_a_stop_sent_before_the_job_started_is_not_lost(app, model, monkeypatch):
    """Stop while the request is still opening the model server's stream (a model loading, a slow server): the
    flag is in the store with the reply's job from the start, and the job honours it when it starts: the reply
    ends `stopped`, here with no text at all, and the model's request is closed."""
    import threading

    opening, go_on = threading.Event(), threading.Event()
    real_open = model.open_stream

    def slow_open(*args, **kwargs):
        opening.set()
        go_on.wait(10)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(model, "open_stream", slow_open)
    model.reply("Words", " that never come")
    answers: list = []
    sender = threading.Thread(
        target=lambda: answers.append(
            events(app.test_client().post("/api/chat", json={"message": "Hi", "model": "tiny-chat", "stream": True}))
        )
    )
    sender.start()
    try:
        assert opening.wait(10), "the request reached the model server"
        client = app.test_client()
        conversation_id = client.get("/api/conversations").get_json()["conversations"][0]["id"]
        reply = client.get(f"/api/conversations/{conversation_id}").get_json()["messages"][-1]
        assert reply["status"] == "streaming"
        stopped = client.post(f"/api/messages/{reply['id']}/stop")
        assert stopped.status_code == 202 and stopped.get_json()["message"]["status"] == "streaming"
    finally:
        go_on.set()
        sender.join(20)
    name, data = answers[0][-1]
    assert name == "done" and (data["message"]["status"], data["message"]["content"]) == ("stopped", "")
    assert model.streams[-1].aborted, "the model server's request is closed"
    saved = _last_reply_when_settled(app.test_client())
    assert (saved["status"], saved["content"]) == ("stopped", "")
