"""Exports hold every message of the tree, not only the branch on screen: each version (a regenerated reply, an
edited question and what grew under it), with the branch on screen marked and a line saying what the file holds.
Real worker, tiny model."""

from __future__ import annotations

import json
import re

from llmchat.api.documents import ConversationExport
from tests.api.test_versions import chat


def test_an_export_holds_every_version_and_marks_the_branch_on_screen(client):
    first = chat(client, "Question one")
    conversation_id = first["conversation_id"]
    second = chat(client, "Question two", conversation_id=conversation_id)
    regenerated = client.post(
        f"/api/conversations/{conversation_id}/regenerate", json={"message_id": second["user_message"]["id"]}
    ).json()["message"]
    edited = chat(client, "Question one, edited", conversation_id=conversation_id, parent_id=None)
    # back to the first question's branch: its newest leaf is the regenerated reply
    client.put(f"/api/conversations/{conversation_id}/current", json={"message_id": second["user_message"]["id"]})
    on_screen = [first["user_message"], first["message"], second["user_message"], regenerated]
    others = [second["message"], edited["user_message"], edited["message"]]

    exported = json.loads(client.get(f"/api/conversations/{conversation_id}/export?format=json").text)
    ConversationExport.model_validate(exported)  # the shape the OpenAPI document gives
    assert exported["export"]["messages"] == 7 and exported["export"]["on_screen"] == 4
    assert "every message" in exported["export"]["holds"]
    assert {m["id"]: m["on_screen"] for m in exported["messages"]} == {
        **{m["id"]: True for m in on_screen},
        **{m["id"]: False for m in others},
    }
    assert [m["id"] for m in exported["messages"]] == sorted(m["id"] for m in on_screen + others)  # oldest first
    versions = next(m for m in exported["messages"] if m["id"] == regenerated["id"])["sibling_ids"]
    assert versions == [second["message"]["id"], regenerated["id"]]

    markdown = client.get(f"/api/conversations/{conversation_id}/export?format=markdown").text
    assert "every message of the conversation (7): the 4 on screen" in markdown
    assert "then 3 other versions" in markdown
    shown_part, other_part = markdown.split("\n# Other versions\n")
    assert "Question one\n" in shown_part and "Question two\n" in shown_part and "edited" not in shown_part
    assert "Question one, edited" in other_part
    facts = re.findall(r"^\*(#\d+ · .*)\*$", markdown, flags=re.MULTILINE)
    assert len(facts) == 7
    assert facts[3].startswith("#4 ") and facts[3].endswith("version 2 of 2 · on screen")  # the regenerated reply
    assert facts[4].startswith("#5 ") and facts[4].endswith("version 1 of 2 · after #3")  # the reply it replaced
    assert facts[5].startswith("#6 ") and facts[5].endswith("version 2 of 2 · a first message")  # the edit
    assert facts[6].startswith("#7 ") and facts[6].endswith("after #6")  # the reply to the edit
