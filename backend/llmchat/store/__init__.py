"""Conversations and messages (a tree of versions), feedback and votes, accounts, API keys and usage, kept in any SQLAlchemy database (SQLite,
PostgreSQL)."""

from llmchat.store.accounts import AccountError, AccountStore, UserRecord
from llmchat.store.database import Database, open_database
from llmchat.store.feedback import Battle, FeedbackStore, VoteRefused
from llmchat.store.keys import KeyRecord, KeyStore
from llmchat.store.records import (
    ColumnRecord,
    ConversationRecord,
    FeedbackRecord,
    MessageRecord,
    SearchHit,
    VoteRecord,
    VoteSide,
)
from llmchat.store.repository import ChatStore
from llmchat.store.rows import NotFound
from llmchat.store.usage import UsageRow, UsageStore

__all__ = [
    "AccountError",
    "AccountStore",
    "Battle",
    "ChatStore",
    "ColumnRecord",
    "ConversationRecord",
    "Database",
    "FeedbackRecord",
    "FeedbackStore",
    "KeyRecord",
    "KeyStore",
    "MessageRecord",
    "NotFound",
    "SearchHit",
    "UsageRow",
    "UsageStore",
    "UserRecord",
    "VoteRecord",
    "VoteRefused",
    "VoteSide",
    "open_database",
]
