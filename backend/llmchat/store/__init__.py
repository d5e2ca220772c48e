"""Conversations and messages (a tree of versions), kept in any SQLAlchemy database (SQLite, PostgreSQL)."""

from llmchat.store.database import Database, open_database
from llmchat.store.records import ColumnRecord, ConversationRecord, MessageRecord, SearchHit
from llmchat.store.repository import ChatStore, NotFound

__all__ = ["ChatStore", "ColumnRecord", "ConversationRecord", "Database", "MessageRecord", "NotFound", "SearchHit",
           "open_database"]
