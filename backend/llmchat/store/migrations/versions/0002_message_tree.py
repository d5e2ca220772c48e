"""message tree (parent, column, finish_reason), conversation kind / branch on screen / title state, full-text search

Existing data is upgraded: each message's parent is the message before it in its conversation (id order), the
branch on screen ends at the newest message, status values are kept, and existing titles stay as they are.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite: an FTS5 index kept in step with messages.content by triggers (external content: no second copy of
# the text). PostgreSQL: a generated tsvector column with a GIN index. Both use a language-neutral tokenizer
# (no stemming), so a search finds the words as written in any language.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); "
    "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
POSTGRES_FTS = [
    "ALTER TABLE messages ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED",
    "CREATE INDEX ix_messages_search_vector ON messages USING GIN (search_vector)",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite adds a column with a REFERENCES clause in place (its default is NULL): no table rebuild, which
        # would trip over the foreign keys at the copy-and-drop step
        op.execute("ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages (id)")
    else:
        op.add_column("messages", sa.Column("parent_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_messages_parent_id", "messages", "messages", ["parent_id"], ["id"])
    op.add_column("messages", sa.Column("column_index", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("finish_reason", sa.String(16), nullable=True))
    op.create_index("ix_messages_parent_id", "messages", ["parent_id"])
    op.add_column("conversations", sa.Column("title_state", sa.String(16), nullable=False, server_default="final"))
    op.add_column("conversations", sa.Column("kind", sa.String(16), nullable=False, server_default="chat"))
    op.add_column("conversations", sa.Column("models", sa.JSON(), nullable=True))
    op.add_column("conversations", sa.Column("current_leaf_id", sa.Integer(), nullable=True))

    # existing conversations were linear: each message follows the one before it
    op.execute(
        "UPDATE messages SET parent_id = (SELECT MAX(earlier.id) FROM messages AS earlier "
        "WHERE earlier.conversation_id = messages.conversation_id AND earlier.id < messages.id)"
    )
    op.execute(
        "UPDATE conversations SET current_leaf_id = "
        "(SELECT MAX(messages.id) FROM messages WHERE messages.conversation_id = conversations.id)"
    )
    for statement in SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_search_vector")
        op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector")
    for name in ("current_leaf_id", "models", "kind", "title_state"):
        op.drop_column("conversations", name)
    op.drop_index("ix_messages_parent_id", "messages")
    with op.batch_alter_table("messages") as batch:
        for name in ("finish_reason", "column_index", "parent_id"):
            batch.drop_column(name)
