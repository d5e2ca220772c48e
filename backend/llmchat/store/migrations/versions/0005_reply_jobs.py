"""replies as server-side jobs: a job per generation and its event log, read by any API process

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id", sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reply_jobs_conversation_id", "reply_jobs", ["conversation_id"])
    op.create_index("ix_reply_jobs_message_id", "reply_jobs", ["message_id"])
    op.create_index("ix_reply_jobs_heartbeat_at", "reply_jobs", ["heartbeat_at"])
    op.create_table(
        "reply_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("reply_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reply_events_job_id", "reply_events", ["job_id"])


def downgrade() -> None:
    op.drop_table("reply_events")
    op.drop_table("reply_jobs")
