"""The message tree over HTTP: edits make branches, regenerate makes versions, switching, compare sessions,
and memory that follows the branch on screen. Real worker, tiny model."""

from __future__ import annotations

import httpx

from tests.api.conftest import read_sse


def chat(client: httpx.Client, message: str, **extra) -> dict:
    response = client.post("/api/chat", json={"message": message, "model": "tiny-fewshot", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def shown(client: httpx.Client, conversation_id: str) -> dict:
    return client.get(f"/api/conversations/{conversation_id}").json()


def test_edit_makes_a_sibling_branch_and_memory_follows_the_branch_on_screen(client):
    first = chat(client, "one " * 40)
    conversation_id = first["conversation_id"]
    second = chat(client, "two", conversation_id=conversation_id)
    # Edit the first message: the same parent (none), new text; everything under the old one stays
    edited = chat(client, "short", conversation_id=conversation_id, parent_id=None)
    assert edited["user_message"]["parent_id"] is None
    assert edited["user_message"]["sibling_ids"] == [first["user_message"]["id"], edited["user_message"]["id"]]
    detail = shown(client, conversation_id)
    assert [m["id"] for m in detail["messages"]] == [edited["user_message"]["id"], edited["message"]["id"]]
    assert detail["current_leaf_id"] == edited["message"]["id"] and detail["message_count"] == 6
    # a follow-up on the edited branch: its prompt does not have the 40 "one"s of the other branch
    follow = chat(client, "two", conversation_id=conversation_id)
    assert follow["user_message"]["parent_id"] == edited["message"]["id"]
    assert follow["message"]["usage"]["prompt_tokens"] + 30 < second["message"]["usage"]["prompt_tokens"]
    # switching back to the first version shows its whole branch, down to its newest leaf
    back = client.put(
        f"/api/conversations/{conversation_id}/current", json={"message_id": first["user_message"]["id"]}
    ).json()
    assert [m["id"] for m in back["messages"]] == [
        first["user_message"]["id"],
        first["message"]["id"],
        second["user_message"]["id"],
        second["message"]["id"],
    ]
    # and a message sent now continues that branch
    later = chat(client, "three", conversation_id=conversation_id)
    assert later["user_message"]["parent_id"] == second["message"]["id"]


def test_regenerate_a_chosen_earlier_message_and_bad_targets(client):
    first = chat(client, "first")
    conversation_id = first["conversation_id"]
    second = chat(client, "second", conversation_id=conversation_id)
    url = f"/api/conversations/{conversation_id}/regenerate"
    again = client.post(url, json={"message_id": first["user_message"]["id"]})
    assert again.status_code == 200, again.text
    version = again.json()["message"]
    assert version["parent_id"] == first["user_message"]["id"]
    assert version["sibling_ids"] == [first["message"]["id"], version["id"]]
    # the new version is on screen; the later exchange is on the other branch, not lost
    assert [m["id"] for m in shown(client, conversation_id)["messages"]] == [first["user_message"]["id"], version["id"]]
    assert shown(client, conversation_id)["message_count"] == 5
    assert client.post(url, json={"message_id": second["message"]["id"]}).json()["error"]["field"] == "message_id"
    assert client.post(url, json={"message_id": 999999}).status_code == 404
    other = chat(client, "elsewhere")
    wrong = client.post(
        "/api/chat",
        json={
            "message": "x",
            "model": "tiny-fewshot",
            "conversation_id": conversation_id,
            "parent_id": other["message"]["id"],
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "parent_id"
    assert (
        client.put(
            f"/api/conversations/{conversation_id}/current", json={"message_id": other["message"]["id"]}
        ).status_code
        == 404
    )


def test_compare_session_is_one_entry_with_two_columns(client):
    created = client.post("/api/conversations", json={"kind": "compare", "models": ["tiny-chat", "tiny-fewshot"]})
    assert created.status_code == 201, created.text
    session = created.json()
    assert (session["kind"], session["models"], session["messages"]) == ("compare", ["tiny-chat", "tiny-fewshot"], [])
    assert [c["messages"] for c in session["columns"]] == [[], []]
    conversation_id = session["id"]
    for column, model in enumerate(["tiny-chat", "tiny-fewshot"]):
        chat(client, "Which is better?", model=model, conversation_id=conversation_id, column=column)
    with client.stream(
        "POST",
        "/api/chat",
        json={
            "message": "And why?",
            "model": "tiny-fewshot",
            "stream": True,
            "conversation_id": conversation_id,
            "column": 1,
        },
    ) as response:
        assert read_sse(response)[-1][0] == "done"
    detail = shown(client, conversation_id)
    assert detail["title"] == "Which is better?" and detail["messages"] == []
    left, right = detail["columns"]
    assert (left["model"], right["model"]) == ("tiny-chat", "tiny-fewshot")
    assert [m["content"] for m in left["messages"] if m["role"] == "user"] == ["Which is better?"]
    assert [m["content"] for m in right["messages"] if m["role"] == "user"] == ["Which is better?", "And why?"]
    assert {m["column"] for m in right["messages"]} == {1}
    # a column's model only sees its own replies: the second question's parent is the right column's reply
    assert right["messages"][2]["parent_id"] == right["messages"][1]["id"]
    listed = client.get("/api/conversations").json()["conversations"]
    assert [(c["id"], c["kind"]) for c in listed] == [(conversation_id, "compare")]
    wrong_model = client.post(
        "/api/chat", json={"message": "x", "model": "tiny-chat", "conversation_id": conversation_id, "column": 1}
    )
    assert wrong_model.status_code == 400 and wrong_model.json()["error"]["field"] == "model"
    assert client.post("/api/chat", json={"message": "x", "model": "tiny-chat", "column": 1}).status_code == 400
    assert client.post("/api/conversations", json={"kind": "compare", "models": ["tiny-chat"]}).status_code == 400
    unknown = client.post("/api/conversations", json={"kind": "compare", "models": ["tiny-chat", "nope"]})
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "models.1"
    markdown = client.get(f"/api/conversations/{conversation_id}/export").text
    assert "# Column 1: tiny-chat" in markdown and "# Column 2: tiny-fewshot" in markdown


def test_limits_come_from_the_validating_schema(client):
    limits = client.get("/api/limits").json()
    assert limits == {
        "max_message_chars": 8000,
        "params": {
            "temperature": {"minimum": 0, "maximum": 2},
            "top_p": {"exclusiveMinimum": 0, "maximum": 1},
            "max_tokens": {"minimum": 1, "maximum": 4096},
            "memory_window": {"minimum": 0, "maximum": 100},
            "system_prompt": {"maxLength": 8000},
        },
    }
    too_many = client.post("/api/chat", json={"message": "x", "model": "tiny-chat", "params": {"max_tokens": 4097}})
    assert too_many.status_code == 400 and too_many.json()["error"]["field"] == "params.max_tokens"
    document = client.get("/api/openapi.json").json()
    params = document["components"]["schemas"]["Params"]
    assert params["additionalProperties"] is False
    top_p = next(v for v in params["properties"]["top_p"]["anyOf"] if v.get("type") == "number")
    assert top_p["exclusiveMinimum"] == 0  # a number: valid in OpenAPI 3.1
