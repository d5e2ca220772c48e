"""Conversation memory: a LangChain chat history over the store, a k-turn window and a token budget."""

from llmchat.memory.budget import MessageTooLong, fit_to_context
from llmchat.memory.history import branch_memory
from llmchat.memory.window import last_turns, to_turns

__all__ = ["MessageTooLong", "branch_memory", "fit_to_context", "last_turns", "to_turns"]
