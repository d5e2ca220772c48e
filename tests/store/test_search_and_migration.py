"""Full-text search (SQLite FTS5 / PostgreSQL tsvector) and the upgrade of data written before the tree."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from llmchat.store import ChatStore, open_database
from llmchat.store.database import MIGRATIONS_DIR, make_engine


def test_search_finds_words_per_ip_with_plain_snippets(store: ChatStore):
    mine = store.create_conversation("10.0.0.1", "Capitals", "m1")
    user = store.add_message(mine.id, "user", "What is the capital of France?")
    store.add_message(mine.id, "assistant", "The capital of France is Paris, on the Seine.", parent_id=user.id)
    theirs = store.create_conversation("10.0.0.2", "Theirs", "m1")
    store.add_message(theirs.id, "user", "Paris in spring")
    hits = store.search("10.0.0.1", "paris")
    assert [(h.conversation_id, h.conversation_title, h.role) for h in hits] == [(mine.id, "Capitals", "assistant")]
    matched = [text for text, match in hits[0].snippet if match]
    assert [m.lower() for m in matched] == ["paris"]
    assert "".join(text for text, _ in hits[0].snippet).count("Paris") == 1
    assert hits[0].created_at.tzinfo is not None
    # a prefix matches, every word must be there, and query syntax of either database is just text
    assert {h.role for h in store.search("10.0.0.1", "capit fran")} == {"user", "assistant"}
    assert store.search("10.0.0.1", "capital berlin") == []
    for odd in ('"', "AND OR NOT", "paris*) OR (", "a:* & !b", "NEAR(x y)", "'; DROP TABLE messages; --", "!!!"):
        store.search("10.0.0.1", odd)  # no error
    assert [h.message_id for h in store.search("10.0.0.1", 'paris" OR "spring')] == []


def test_search_follows_edits_and_deletes(store: ChatStore):
    conversation = store.create_conversation("10.0.0.1", "t", "m1")
    reply = store.add_message(conversation.id, "assistant", "", status="streaming")
    store.update_message(reply.id, content="streamed words arrive")
    assert [h.message_id for h in store.search("10.0.0.1", "arrive")] == [reply.id]
    store.update_message(reply.id, content="something else")
    assert store.search("10.0.0.1", "arrive") == []
    store.delete_conversation("10.0.0.1", conversation.id)
    assert store.search("10.0.0.1", "something") == []


def test_upgrade_from_0001_keeps_data_and_links_messages_in_id_order(database_url):
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO clients (ip, created_at, last_seen_at) VALUES ('10.0.0.1', '2026-01-01', '2026-01-01')")
        )
        connection.execute(
            text(
                "INSERT INTO conversations (id, client_id, title, model, created_at, updated_at) "
                "VALUES ('a', 1, 'Old', 'm1', '2026-01-01', '2026-01-02'), "
                "('b', 1, 'Other', 'm1', '2026-01-01', '2026-01-01')"
            )
        )
        rows = [
            ("a", "user", "hello old world", "complete"),
            ("a", "assistant", "hi there", "complete"),
            ("b", "user", "elsewhere", "error"),
            ("a", "user", "again", "complete"),
            ("a", "assistant", "partial", "stopped"),
        ]
        for conversation, role, content, status in rows:
            connection.execute(
                text(
                    "INSERT INTO messages (conversation_id, role, content, status, created_at, "
                    "updated_at) VALUES (:c, :r, :t, :s, '2026-01-01', '2026-01-01')"
                ),
                {"c": conversation, "r": role, "t": content, "s": status},
            )
    engine.dispose()
    database = open_database(database_url)  # the app's start-up: upgrade head
    try:
        store = ChatStore(database)
        assert store.get_conversation("10.0.0.1", "a") is None  # 0004: the owner is now the identity ip:10.0.0.1
        old = store.get_conversation("ip:10.0.0.1", "a")
        assert [(m.content, m.status) for m in old.messages] == [
            ("hello old world", "complete"),
            ("hi there", "complete"),
            ("again", "complete"),
            ("partial", "stopped"),
        ]
        assert [m.parent_id for m in old.messages] == [None, 1, 2, 4]
        assert old.current_leaf_id == 5 and old.title == "Old" and old.title_state == "final"
        assert [(m.status, m.parent_id) for m in store.get_conversation("ip:10.0.0.1", "b").messages] == [
            ("error", None)
        ]
        assert [h.message_id for h in store.search("ip:10.0.0.1", "old world")] == [1]  # indexed by the upgrade
        assert not store.claim_title("a")  # an existing title is never replaced by a generated one
    finally:
        database.dispose()
