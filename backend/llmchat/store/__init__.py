"""Conversations and messages, kept in any SQLAlchemy database (SQLite by default, PostgreSQL by URL)."""

from llmchat.store.database import Database, open_database
from llmchat.store.records import ConversationRecord, MessageRecord
from llmchat.store.repository import ChatStore, NotFound

__all__ = ["ChatStore", "ConversationRecord", "Database", "MessageRecord", "NotFound", "open_database"]
