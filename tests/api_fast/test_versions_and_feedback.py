"""Versions (regenerate, switch), Continue, feedback and votes through the handlers."""

from __future__ import annotations

from tests.api_fast.helpers import chat, error_of


def test_regenerate_adds_a_version_and_switching_shows_the_other(client, model):
    model.reply("first version")
    first = chat(client, "Say something")
    conversation_id = first["conversation_id"]
    model.reply("second version")
    again = client.post(f"/api/conversations/{conversation_id}/regenerate", json={})
    assert again.status_code == 200
    second = again.get_json()["message"]
    assert second["content"] == "second version" and second["parent_id"] == first["user_message"]["id"]
    assert second["sibling_ids"] == [first["message"]["id"], second["id"]]
    shown = client.get(f"/api/conversations/{conversation_id}").get_json()["messages"]
    assert shown[-1]["content"] == "second version"
    switched = client.put(f"/api/conversations/{conversation_id}/current", json={"message_id": first["message"]["id"]})
    assert switched.status_code == 200 and switched.get_json()["messages"][-1]["content"] == "first version"
    reply_id = first["message"]["id"]
    wrong = client.post(f"/api/conversations/{conversation_id}/regenerate", json={"message_id": reply_id})
    assert wrong.status_code == 400 and error_of(wrong)["field"] == "message_id"


def test_continue_extends_a_cut_off_reply_in_place(client, model):
    model.reply("The list: one,", finish_reason="length")
    first = chat(client, "List three")
    reply_id = first["message"]["id"]
    model.reply(" two, three.")
    continued = client.post(f"/api/messages/{reply_id}/continue", json={})
    assert continued.status_code == 200
    message = continued.get_json()["message"]
    assert (message["id"], message["content"], message["finish_reason"]) == (
        reply_id,
        "The list: one, two, three.",
        "stop",
    )
    assert model.generations()[-1].payload["messages"][-1] == {"role": "assistant", "content": "The list: one,"}
    done = client.post(f"/api/messages/{reply_id}/continue", json={})
    assert done.status_code == 400 and error_of(done)["code"] == "nothing_to_continue"


def test_a_failed_continue_leaves_the_reply_as_it_was(client, model):
    from llmchat.modelclient import WorkerUnavailable

    model.reply("Cut", finish_reason="length")
    first = chat(client, "Go")
    model.fail_next(WorkerUnavailable("gone", never_reached=False))
    failed = client.post(f"/api/messages/{first['message']['id']}/continue", json={})
    assert failed.status_code == 503 and error_of(failed)["code"] == "worker_unavailable"
    kept = client.get(f"/api/conversations/{first['conversation_id']}").get_json()["messages"][-1]
    assert (kept["content"], kept["status"], kept["finish_reason"]) == ("Cut", "complete", "length")


def test_feedback_is_set_changed_and_cleared(client):
    reply_id = chat(client, "Rate me")["message"]["id"]
    rated = client.put(f"/api/messages/{reply_id}/feedback", json={"rating": "down", "correction": "  Better.  "})
    assert rated.status_code == 200
    assert rated.get_json()["feedback"]["rating"] == "down" and rated.get_json()["feedback"]["correction"] == "Better."
    up = client.put(f"/api/messages/{reply_id}/feedback", json={"rating": "up"})
    assert up.get_json()["feedback"]["correction"] == "Better.", "a correction not sent is kept"
    cleared = client.put(f"/api/messages/{reply_id}/feedback", json={"rating": None, "correction": None})
    assert cleared.status_code == 200 and cleared.get_json()["feedback"] is None
    bad = client.put(f"/api/messages/{reply_id}/feedback", json={"rating": 5})
    assert bad.status_code == 400 and error_of(bad)["field"] == "rating"
    assert client.put("/api/messages/999999/feedback", json={"rating": "up"}).status_code == 404


def test_a_vote_between_two_versions_is_created_then_replaced(client, model):
    model.reply("left answer")
    first = chat(client, "Which is better?")
    model.reply("right answer")
    regenerated = client.post(f"/api/conversations/{first['conversation_id']}/regenerate", json={}).get_json()
    pair = {"left_message_id": first["message"]["id"], "right_message_id": regenerated["message"]["id"]}
    created = client.post("/api/votes", json={**pair, "winner": "left"})
    assert created.status_code == 201
    vote = created.get_json()["vote"]
    assert (vote["left"]["content"], vote["right"]["content"], vote["winner"]) == (
        "left answer",
        "right answer",
        "left",
    )
    replaced = client.post("/api/votes", json={**pair, "winner": "tie"})
    assert replaced.status_code == 200 and replaced.get_json()["vote"]["id"] == vote["id"]
    same = client.post("/api/votes", json={**pair, "right_message_id": pair["left_message_id"], "winner": "left"})
    assert same.status_code == 400 and error_of(same)["field"]
    wrong = client.post("/api/votes", json={**pair, "winner": "middle"})
    assert wrong.status_code == 400 and error_of(wrong)["field"] == "winner"
