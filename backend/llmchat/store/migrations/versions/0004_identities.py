"""identities beyond the IP: clients.ip becomes clients.identity (`ip:<address>`), local accounts and their
sign-ins, personal API keys, usage per identity, model and day

Every existing conversation keeps its owner: the address 1.2.3.4 becomes the identity `ip:1.2.3.4`, which is what
identity: ip resolves the same client to. Under identity: accounts or header those conversations are no one's
until an admin gives them to a user (`llmchat users assign-ip ADDRESS NAME`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain RENAME COLUMN (SQLite 3.25+, PostgreSQL): a batch copy of clients would drop the old table, and with
    # foreign keys on, that deletes every conversation through the cascade
    op.execute("ALTER TABLE clients RENAME COLUMN ip TO identity")
    if op.get_bind().dialect.name != "sqlite":  # SQLite ignores a VARCHAR's length
        op.alter_column("clients", "identity", type_=sa.String(200), existing_type=sa.String(64))
    op.execute("UPDATE clients SET identity = 'ip:' || identity")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sign_ins",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("identity", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_keys_identity", "api_keys", ["identity"])
    op.create_table(
        "usage",
        sa.Column("identity", sa.String(200), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
    )
    op.create_index("ix_usage_day", "usage", ["day"])


def downgrade() -> None:
    op.drop_index("ix_usage_day", "usage")
    op.drop_table("usage")
    op.drop_index("ix_api_keys_identity", "api_keys")
    op.drop_table("api_keys")
    op.drop_index("ix_sign_ins_user_id", "sign_ins")
    op.drop_table("sign_ins")
    op.drop_table("users")
    # identities that are not addresses (user:...) have no place in the old schema: their conversations go
    op.execute("DELETE FROM clients WHERE identity NOT LIKE 'ip:%'")
    op.execute("UPDATE clients SET identity = substr(identity, 4)")
    op.execute("ALTER TABLE clients RENAME COLUMN identity TO ip")
