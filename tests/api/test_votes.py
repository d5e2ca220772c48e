"""Compare votes, blind sessions, the leaderboard and model cards, against the real API and a real worker."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import read_sse
from tests.support.api_server import api_config, from_address, start_api
from tests.support.slow_upstream import start_slow_upstream

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

SERVED = {"tiny-chat", "tiny-fewshot", "tiny-alpaca"}


def compare(http: httpx.Client, left: str, right: str) -> str:
    response = http.post("/api/conversations", json={"kind": "compare", "models": [left, right]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def ask_both(http: httpx.Client, conversation_id: str, prompt: str, models: tuple[str | None, str | None]):
    """The prompt in both columns; returns the two replies (column 0, column 1)."""
    replies = []
    for column, model in enumerate(models):
        body = {
            "message": prompt,
            "conversation_id": conversation_id,
            "column": column,
            **({"model": model} if model else {}),
        }
        response = http.post("/api/chat", json=body)
        assert response.status_code == 200, response.text
        replies.append(response.json()["message"])
    return replies


def vote(http: httpx.Client, left: dict, right: dict, winner: str) -> httpx.Response:
    return http.post(
        "/api/votes", json={"left_message_id": left["id"], "right_message_id": right["id"], "winner": winner}
    )


def test_a_vote_stores_prompt_replies_and_models_and_a_second_vote_replaces_it(client):
    session = compare(client, "tiny-chat", "tiny-fewshot")
    left, right = ask_both(client, session, "Name a colour.", ("tiny-chat", "tiny-fewshot"))
    first = vote(client, left, right, "left")
    assert first.status_code == 201, first.text
    stored = first.json()["vote"]
    assert (stored["prompt"], stored["winner"], stored["conversation_id"]) == ("Name a colour.", "left", session)
    assert stored["left"] == {"message_id": left["id"], "model": "tiny-chat", "content": left["content"]}
    assert stored["right"] == {"message_id": right["id"], "model": "tiny-fewshot", "content": right["content"]}
    again = vote(client, left, right, "both_bad")
    assert again.status_code == 200 and again.json()["vote"]["id"] == stored["id"]
    votes = client.get(f"/api/conversations/{session}").json()["votes"]
    assert [(v["id"], v["winner"]) for v in votes] == [(stored["id"], "both_bad")]
    assert client.get("/api/leaderboard").json()["votes"] == 1


def test_votes_are_refused_for_other_ips_unfinished_or_unrelated_replies(api, client):
    session = compare(client, "tiny-chat", "tiny-fewshot")
    left, right = ask_both(client, session, "Name a colour.", ("tiny-chat", "tiny-fewshot"))
    with from_address(api.url, "127.0.0.8") as other:
        assert vote(other, left, right, "left").status_code == 404
    unrelated, _ = ask_both(client, session, "Something else entirely.", ("tiny-chat", "tiny-fewshot"))
    for pair in ((left, unrelated), (left, left)):
        response = vote(client, *pair, "left")
        assert response.status_code == 400 and response.json()["error"]["field"] == "right_message_id"
    for body, field in (
        ({"left_message_id": left["id"], "right_message_id": right["id"], "winner": "draw"}, "winner"),
        ({"left_message_id": "1", "right_message_id": right["id"], "winner": "left"}, "left_message_id"),
        ({"left_message_id": left["id"], "winner": "left"}, "right_message_id"),
    ):
        response = client.post("/api/votes", json=body)
        assert response.status_code == 400 and response.json()["error"]["field"] == field
    assert client.post("/api/votes", content="{}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.get("/api/leaderboard").json()["votes"] == 0


def test_a_blind_session_hides_its_models_until_the_first_vote(client):
    created = client.post("/api/conversations", json={"kind": "compare", "blind": True})
    assert created.status_code == 201, created.text
    session = created.json()
    assert (session["blind"], session["revealed"], session["models"]) == (True, False, [None, None])
    assert [c["model"] for c in session["columns"]] == [None, None]
    seen = [created.text]
    # JSON into column 0, a stream into column 1, neither naming a model
    json_reply = client.post("/api/chat", json={"message": "Say hi.", "conversation_id": session["id"], "column": 0})
    assert json_reply.status_code == 200, json_reply.text
    seen.append(json_reply.text)
    left = json_reply.json()["message"]
    assert left["model"] is None and json_reply.json()["user_message"]["model"] is None
    with client.stream(
        "POST", "/api/chat", json={"message": "Say hi.", "conversation_id": session["id"], "column": 1, "stream": True}
    ) as stream:
        events = read_sse(stream)
    seen.append(repr(events))
    right = dict(events)["done"]["message"]
    assert dict(events)["start"]["message"]["model"] is None and right["model"] is None
    for path in (
        f"/api/conversations/{session['id']}",
        "/api/conversations",
        f"/api/conversations/{session['id']}/export?format=markdown",
        f"/api/conversations/{session['id']}/export?format=json",
    ):
        seen.append(client.get(path).text)
    assert not any(name in text for text in seen for name in SERVED)  # no model id anywhere before the vote

    # naming a model in a blind column is refused (else a guess would be confirmed or denied)
    for model in sorted(SERVED):
        named = client.post(
            "/api/chat", json={"message": "x", "conversation_id": session["id"], "column": 0, "model": model}
        )
        assert named.status_code == 400 and named.json()["error"]["field"] == "model"
        assert model not in named.text
        regenerate = client.post(f"/api/conversations/{session['id']}/regenerate", json={"model": model})
        assert regenerate.status_code == 400 and model not in regenerate.text

    voted = vote(client, left, right, "right").json()["vote"]
    assert {voted["left"]["model"], voted["right"]["model"]} <= SERVED
    assert voted["left"]["model"] != voted["right"]["model"]
    shown = client.get(f"/api/conversations/{session['id']}").json()
    assert (shown["blind"], shown["revealed"]) == (True, True)
    assert shown["models"] == [voted["left"]["model"], voted["right"]["model"]]
    assert [c["model"] for c in shown["columns"]] == shown["models"]
    assert [c["messages"][-1]["model"] for c in shown["columns"]] == shown["models"]


def test_blind_draws_two_different_served_models_at_random(api, client):
    store = api.app.extensions["llmchat"].store  # the drawn models, which no response shows before a vote
    pairs = []
    for _ in range(12):
        session = client.post("/api/conversations", json={"kind": "compare", "blind": True}).json()
        assert session["models"] == [None, None]
        drawn = store.get_conversation("ip:127.0.0.1", session["id"]).models
        assert len(set(drawn)) == 2 and set(drawn) <= SERVED
        pairs.append(drawn)
    assert len(set(pairs)) > 1  # 12 draws of the same ordered pair out of 6: chance 6**-11
    for body, field in (
        ({"kind": "compare", "blind": True, "models": ["tiny-chat", "tiny-chat"]}, "models"),
        ({"kind": "compare", "blind": True, "models": ["tiny-chat", "no-such-model"]}, "models.1"),
        ({"kind": "chat", "blind": True}, "blind"),
    ):
        response = client.post("/api/conversations", json=body)
        assert response.status_code == 400 and response.json()["error"]["field"] == field


def test_a_blind_session_of_two_named_models_hides_them_on_random_sides(api, client):
    """A run against its base (the run page's button): those two models, sides drawn at random, hidden alike."""
    store = api.app.extensions["llmchat"].store
    sides = set()
    for _ in range(12):
        body = {"kind": "compare", "blind": True, "models": ["tiny-chat", "tiny-alpaca"]}
        session = client.post("/api/conversations", json=body).json()
        assert (session["blind"], session["models"]) == (True, [None, None])
        drawn = store.get_conversation("ip:127.0.0.1", session["id"]).models
        assert sorted(drawn) == ["tiny-alpaca", "tiny-chat"]
        sides.add(tuple(drawn))
    assert len(sides) == 2  # 12 draws on the same side: chance 2**-11


def test_blind_needs_two_models(tmp_path):
    with (
        start_slow_upstream() as upstream,
        start_api(api_config(f"sqlite:///{tmp_path / 'one.db'}", [upstream])) as api,
        httpx.Client(base_url=api.url, timeout=30) as http,
    ):
        response = http.post("/api/conversations", json={"kind": "compare", "blind": True})
        assert response.status_code == 400 and response.json()["error"]["code"] == "not_enough_models"
        # a server without a card route: the card of what /v1/models says, no run
        card = http.get("/api/models/slow/card").json()
        assert (card["id"], card["origin"], card["run"], card["engine"]) == ("slow", "config", None, None)


def test_the_leaderboard_ranks_hand_made_votes_from_every_ip(api, client):
    """tiny-chat beats tiny-fewshot, which beats tiny-alpaca; the Bradley-Terry order must say so."""
    plan = [
        ("tiny-chat", "tiny-fewshot", "left"),
        ("tiny-fewshot", "tiny-chat", "right"),
        ("tiny-fewshot", "tiny-alpaca", "left"),
        ("tiny-alpaca", "tiny-fewshot", "right"),
        ("tiny-chat", "tiny-alpaca", "left"),
        ("tiny-chat", "tiny-alpaca", "tie"),
    ]
    with from_address(api.url, "127.0.0.9") as other:
        for number, (left_model, right_model, winner) in enumerate(plan):
            http = client if number % 2 else other
            session = compare(http, left_model, right_model)
            left, right = ask_both(http, session, f"Question {number}?", (left_model, right_model))
            assert vote(http, left, right, winner).status_code == 201
            if number == 0:
                assert http.put(f"/api/messages/{left['id']}/feedback", json={"rating": "up"}).status_code == 200
                assert http.put(f"/api/messages/{right['id']}/feedback", json={"rating": "down"}).status_code == 200
    board = client.get("/api/leaderboard").json()
    assert board["votes"] == 6 and "half a win" in board["ties"] and "Bradley-Terry" in board["method"]
    rows = {row["model"]: row for row in board["models"]}
    assert [row["model"] for row in board["models"]] == ["tiny-chat", "tiny-fewshot", "tiny-alpaca"]
    assert {k: rows["tiny-chat"][k] for k in ("battles", "wins", "losses", "ties", "win_rate")} == {
        "battles": 4,
        "wins": 3,
        "losses": 0,
        "ties": 1,
        "win_rate": 0.875,  # the tie is half a win
    }
    assert (rows["tiny-fewshot"]["wins"], rows["tiny-fewshot"]["losses"]) == (2, 2)
    assert (rows["tiny-chat"]["thumbs_up"], rows["tiny-chat"]["thumbs_up_share"]) == (1, 1.0)
    assert (rows["tiny-fewshot"]["thumbs_down"], rows["tiny-fewshot"]["thumbs_up_share"]) == (1, 0.0)
    for row in board["models"]:
        assert row["ci95"][0] <= row["rating"] <= row["ci95"][1]


def test_models_list_and_cards_say_where_a_model_comes_from(client):
    listed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
    assert {(m["origin"], m["created"]) for m in listed.values()} == {("config", None)}
    card = client.get("/api/models/tiny-alpaca/card").json()
    assert (card["id"], card["kind"], card["prompt_style"], card["context_length"], card["origin"], card["run"]) == (
        "tiny-alpaca",
        "alpaca",
        "alpaca",
        512,
        "config",
        None,
    )
    assert card["engine"] == listed["tiny-alpaca"]["engine"] and card["engine"] in ("openvino", "transformers")
    missing = client.get("/api/models/gpt-9/card")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
