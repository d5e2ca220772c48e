from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect, text

from llmchat.store import ChatStore, open_database


def test_migrations_create_the_tables_and_are_idempotent(database_url):
    first = open_database(database_url)
    names = set(inspect(first.engine).get_table_names())
    assert {
        "clients",
        "conversations",
        "messages",
        "feedback",
        "votes",
        "users",
        "sign_ins",
        "api_keys",
        "usage",
        "reply_jobs",
        "reply_events",
    } <= names
    first.dispose()
    again = open_database(database_url)  # a second start-up runs `upgrade head` again: no error, same revision
    with again.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
    again.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_conversations_belong_to_their_ip_only(store: ChatStore):
    mine = store.create_conversation("10.0.0.1", "mine", "m1")
    store.create_conversation("10.0.0.2", "theirs", "m1")
    assert [c.title for c in store.list_conversations("10.0.0.1")] == ["mine"]
    assert store.get_conversation("10.0.0.2", mine.id) is None
    assert store.rename_conversation("10.0.0.2", mine.id, "stolen") is None
    assert store.delete_conversation("10.0.0.2", mine.id) is False
    assert store.get_conversation("10.0.0.1", mine.id).title == "mine"


def test_messages_keep_every_field(store: ChatStore):
    conversation = store.create_conversation("10.0.0.1", "t", "m1")
    params = {"temperature": 0.5, "top_p": 0.9, "max_tokens": 12}
    user = store.add_message(conversation.id, "user", "hello", model="m1", params=params)
    reply = store.add_message(conversation.id, "assistant", "", parent_id=user.id, model="m1", params=params)
    done = store.update_message(
        reply.id, content="hi there", finish_reason="length", prompt_tokens=7, completion_tokens=3, response_time_ms=42
    )
    assert (done.content, done.finish_reason, done.prompt_tokens, done.completion_tokens, done.response_time_ms) == (
        "hi there",
        "length",
        7,
        3,
        42,
    )
    stored = store.get_conversation("10.0.0.1", conversation.id)
    assert [m.id for m in stored.messages] == [user.id, reply.id]
    assert stored.messages[0].params == params
    assert stored.messages[1].created_at.tzinfo is not None
    assert stored.message_count == 2


def test_list_is_newest_first_with_counts(store: ChatStore):
    older = store.create_conversation("10.0.0.1", "older", "m")
    newer = store.create_conversation("10.0.0.1", "newer", "m")
    store.add_message(older.id, "user", "bump")  # a new message makes `older` the most recent
    listed = store.list_conversations("10.0.0.1")
    assert [(c.id, c.message_count) for c in listed] == [(older.id, 1), (newer.id, 0)]


def test_delete_removes_messages_too(store: ChatStore):
    conversation = store.create_conversation("10.0.0.1", "t", "m")
    store.add_message(conversation.id, "user", "a")
    assert store.delete_conversation("10.0.0.1", conversation.id)
    assert store.messages(conversation.id) == []
    assert store.list_conversations("10.0.0.1") == []


def test_bad_role_status_and_missing_rows_are_refused(store: ChatStore):
    conversation = store.create_conversation("10.0.0.1", "t", "m")
    with pytest.raises(ValueError):
        store.add_message(conversation.id, "system", "x")
    with pytest.raises(ValueError):
        store.add_message(conversation.id, "user", "x", status="lost")
    with pytest.raises(LookupError):
        store.add_message("0" * 32, "user", "x")
    with pytest.raises(LookupError):
        store.update_message(999999, content="x")
    message = store.add_message(conversation.id, "user", "x")
    with pytest.raises(ValueError):  # a status moves only along the reply's status machine (store/replies.py)
        store.update_message(message.id, status="error")


def test_many_threads_writing_at_once_lose_nothing(store: ChatStore):
    def chat(ip: str) -> None:
        conversation = store.create_conversation(ip, ip, "m")
        for i in range(5):
            store.add_message(conversation.id, "user", f"{ip} {i}")

    threads = [threading.Thread(target=chat, args=(f"10.1.0.{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for n in range(6):
        (conversation,) = store.list_conversations(f"10.1.0.{n}")
        assert conversation.message_count == 5


def test_an_id_with_nul_is_simply_not_found(store: ChatStore):
    # a URL can carry %00; PostgreSQL raised DataError on it (a 500) instead of "not found"
    store.create_conversation("10.0.0.1", "mine", "m1")
    assert store.get_conversation("10.0.0.1", "ab\x00cd") is None
    assert store.rename_conversation("10.0.0.1", "ab\x00cd", "x") is None
    assert store.delete_conversation("10.0.0.1", "ab\x00cd") is False
