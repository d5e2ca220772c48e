"""feedback on replies (thumbs, corrections), votes between two replies, blind compare sessions

Existing conversations are not blind; nothing else changes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("blind", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("conversations", sa.Column("revealed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "feedback",
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("rating", sa.String(8), nullable=True),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_updated_at", "feedback", ["updated_at"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id", sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("pair", sa.String(32), nullable=False, unique=True),
        sa.Column("left_message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("right_message_id", sa.Integer(), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("left_model", sa.String(200), nullable=True),
        sa.Column("right_model", sa.String(200), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("left_content", sa.Text(), nullable=False),
        sa.Column("right_content", sa.Text(), nullable=False),
        sa.Column("winner", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_votes_conversation_id", "votes", ["conversation_id"])
    op.create_index("ix_votes_created_at", "votes", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_votes_created_at", "votes")
    op.drop_index("ix_votes_conversation_id", "votes")
    op.drop_table("votes")
    op.drop_index("ix_feedback_updated_at", "feedback")
    op.drop_table("feedback")
    # a plain DROP COLUMN (SQLite 3.35+): a batch copy of conversations would drop the old table, and with foreign
    # keys on, that deletes every message through the cascade
    for name in ("revealed", "blind"):
        op.execute(f"ALTER TABLE conversations DROP COLUMN {name}")
