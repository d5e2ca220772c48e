"""Following a reply past the text a page shows already (`?shown=`, api/reply_stream.past_shown): the page only
appends, and from the first delta on each event id matches the page's text."""

from __future__ import annotations

import json

from llmchat.api.reply_stream import past_shown


def log(start_text: str, *deltas: str) -> list[tuple[int | None, str, str]]:
    events = [(1, "start", json.dumps({"conversation_id": "c", "message": {"content": start_text}}))]
    events += [(2 + i, "delta", json.dumps({"content": text})) for i, text in enumerate(deltas)]
    return [*events, (2 + len(deltas), "done", json.dumps({"conversation_id": "c", "message": {"content": "x"}}))]


def appended(events) -> str:
    return "".join(json.loads(data)["content"] for _, name, data in events if name == "delta")


def test_the_delta_reaching_past_the_page_is_cut_and_the_ones_within_it_left_out():
    events = list(past_shown(iter(log("", "Once ", "upon a ", "time")), shown=len("Once up")))
    assert [(event_id, name) for event_id, name, _ in events] == [
        (None, "start"),
        (3, "delta"),
        (4, "delta"),
        (5, "done"),
    ]
    assert appended(events) == "on a time"


def test_a_page_ending_on_a_delta_gets_its_id_with_nothing_to_add():
    events = list(past_shown(iter(log("", "Once ", "upon")), shown=len("Once ")))
    assert events[1][:2] == (2, "delta") and appended(events) == "upon"


def test_a_continued_reply_counts_its_earlier_text_and_characters_are_code_points():
    events = list(past_shown(iter(log("Caf\u00e9 \U0001f600 ", "and ", "more")), shown=len("Caf\u00e9 \U0001f600 an")))
    assert appended(events) == "d more"


def test_a_page_further_on_than_the_log_waits_for_it():
    events = list(past_shown(iter(log("", "ab")), shown=5))  # the text was saved before its events were written
    assert [name for _, name, _ in events] == ["start", "done"]
