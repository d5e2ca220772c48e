"""The message tree: versions (siblings), the branch on screen, switching, compare columns, stale streams."""

from __future__ import annotations

import pytest

from llmchat.store import ChatStore
from llmchat.store.tree import parent_of_new_message


def exchange(
    store: ChatStore, conversation_id: str, text: str, parent_id: int | None, column: int = 0, model: str = "m1"
):
    user = store.add_message(conversation_id, "user", text, parent_id=parent_id, column=column, model=model)
    reply = store.add_message(
        conversation_id, "assistant", f"re: {text}", parent_id=user.id, column=column, model=model, finish_reason="stop"
    )
    return user, reply


def branch_ids(store: ChatStore, ip: str, conversation_id: str) -> list[int]:
    return [m.id for m in store.get_conversation(ip, conversation_id).messages]


def test_versions_are_siblings_and_the_newest_is_on_screen(store: ChatStore):
    conversation = store.create_conversation("10.0.0.1", "t", "m1")
    user, first = exchange(store, conversation.id, "hi", None)
    second = store.add_message(conversation.id, "assistant", "another", parent_id=user.id, model="m2")
    shown = store.get_conversation("10.0.0.1", conversation.id)
    assert [m.id for m in shown.messages] == [user.id, second.id]
    assert shown.messages[1].sibling_ids == (first.id, second.id)
    assert shown.messages[0].sibling_ids == (user.id,)
    assert shown.current_leaf_id == second.id
    assert shown.models == ("m1", "m2") and shown.model == "m2"
    assert shown.message_count == 3


def test_editing_makes_a_branch_and_switching_goes_down_to_the_newest_leaf(store: ChatStore):
    ip = "10.0.0.1"
    conversation = store.create_conversation(ip, "t", "m1")
    u1, r1 = exchange(store, conversation.id, "one", None)
    u2, r2 = exchange(store, conversation.id, "two", r1.id)
    u3, r3 = exchange(store, conversation.id, "three", r2.id)
    edited, r2b = exchange(store, conversation.id, "two, edited", r1.id)  # an edit of u2: a sibling of it
    assert branch_ids(store, ip, conversation.id) == [u1.id, r1.id, edited.id, r2b.id]
    shown = store.get_conversation(ip, conversation.id)
    assert shown.messages[2].sibling_ids == (u2.id, edited.id)
    # back to the first version: the branch continues to its newest leaf, u3's reply
    switched = store.set_current(ip, conversation.id, u2.id)
    assert [m.id for m in switched.messages] == [u1.id, r1.id, u2.id, r2.id, u3.id, r3.id]
    assert parent_of_new_message(store.get_conversation(ip, conversation.id, whole_tree=True)) == r3.id
    assert store.set_current("10.9.9.9", conversation.id, u2.id) is None  # another IP
    other = store.create_conversation(ip, "other", "m1")
    assert store.set_current(ip, other.id, u2.id) is None  # not a message of that conversation
    assert len(store.messages(conversation.id)) == 8  # nothing was deleted


def test_a_parent_must_be_in_the_same_conversation_and_column(store: ChatStore):
    first = store.create_conversation("10.0.0.1", "a", "m1")
    second = store.create_conversation("10.0.0.1", "b", "m1")
    user, _ = exchange(store, first.id, "hi", None)
    with pytest.raises(ValueError):
        store.add_message(second.id, "user", "x", parent_id=user.id)
    with pytest.raises(ValueError):
        store.add_message(first.id, "assistant", "x", parent_id=user.id, column=1)


def test_compare_session_has_two_columns_each_with_its_own_history(store: ChatStore):
    ip = "10.0.0.1"
    session = store.create_conversation(ip, "", None, kind="compare", models=["left", "right"], title_state="untitled")
    store.title_from_first_message(session.id, "Which is better?")
    l1, lr1 = exchange(store, session.id, "q1", None, column=0, model="left")
    r1, rr1 = exchange(store, session.id, "q1", None, column=1, model="right")
    l2, lr2 = exchange(
        store,
        session.id,
        "q2",
        parent_of_new_message(store.get_conversation(ip, session.id, whole_tree=True), 0),
        column=0,
        model="left",
    )
    assert parent_of_new_message(store.get_conversation(ip, session.id, whole_tree=True), 1) == rr1.id
    shown = store.get_conversation(ip, session.id)
    assert (shown.kind, shown.title, shown.models, shown.messages) == (
        "compare",
        "Which is better?",
        ("left", "right"),
        (),
    )
    assert [c.model for c in shown.columns] == ["left", "right"]
    assert [m.id for m in shown.columns[0].messages] == [l1.id, lr1.id, l2.id, lr2.id]
    assert [m.id for m in shown.columns[1].messages] == [r1.id, rr1.id]
    assert shown.columns[1].messages[0].sibling_ids == (r1.id,)  # the other column's root is not a version
    listed = store.list_conversations(ip)
    assert [(c.kind, c.models) for c in listed] == [("compare", ("left", "right"))]


def test_one_model_title_per_conversation_and_a_rename_wins(store: ChatStore):
    ip = "10.0.0.1"
    conversation = store.create_conversation(ip, "first line", "m1")
    assert store.claim_title(conversation.id) and not store.claim_title(conversation.id)
    assert store.get_conversation(ip, conversation.id).title_state == "writing"
    finished = store.finish_title(conversation.id, "Model title")
    assert (finished.title, finished.title_state) == ("Model title", "final")
    assert not store.claim_title(conversation.id)  # once only
    renamed = store.create_conversation(ip, "first line", "m1")
    assert store.claim_title(renamed.id)
    store.rename_conversation(ip, renamed.id, "Mine")  # while the model writes its title
    store.finish_title(renamed.id, "Model title")
    assert store.get_conversation(ip, renamed.id).title == "Mine"
    failed = store.create_conversation(ip, "first line", "m1")
    assert store.claim_title(failed.id)
    kept = store.finish_title(failed.id, None)  # no usable title: the first line stays, settled
    assert (kept.title, kept.title_state) == ("first line", "final")


def test_delete_removes_a_whole_tree(store: ChatStore):
    ip = "10.0.0.1"
    conversation = store.create_conversation(ip, "t", "m1")
    _, reply = exchange(store, conversation.id, "a", None)
    exchange(store, conversation.id, "b", reply.id)
    assert store.delete_conversation(ip, conversation.id)
    assert store.messages(conversation.id) == []
