"""Conversations and messages (a tree of versions), feedback and votes, kept in any SQLAlchemy database (SQLite,
PostgreSQL)."""

from llmchat.store.database import Database, open_database
from llmchat.store.feedback import Battle, FeedbackStore, VoteRefused
from llmchat.store.records import (
    ColumnRecord,
    ConversationRecord,
    FeedbackRecord,
    MessageRecord,
    SearchHit,
    VoteRecord,
    VoteSide,
)
from llmchat.store.repository import ChatStore, NotFound

__all__ = [
    "Battle",
    "ChatStore",
    "ColumnRecord",
    "ConversationRecord",
    "Database",
    "FeedbackRecord",
    "FeedbackStore",
    "MessageRecord",
    "NotFound",
    "SearchHit",
    "VoteRecord",
    "VoteRefused",
    "VoteSide",
    "open_database",
]
