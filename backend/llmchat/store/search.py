"""Full-text search over message text with the database's own index: SQLite FTS5 or PostgreSQL tsvector.

The user's text becomes a query of its words (each also matching as a prefix, all required), so no query
syntax of either database reaches it. Snippets come back as plain (text, is_match) segments, never markup.
"""

from __future__ import annotations

import re

from sqlalchemy import DateTime, text
from sqlalchemy.orm import Session

from llmchat.store.records import SearchHit, as_utc

# the database marks matches with these (private-use characters, not expected in chat text)
START, STOP = "\ue000", "\ue001"
MAX_TERMS = 16

SQLITE = text(f"""
SELECT m.id, m.conversation_id, c.title, m.role, m.created_at,
       snippet(messages_fts, 0, '{START}', '{STOP}', '…', 16) AS snippet
FROM messages_fts
JOIN messages AS m ON m.id = messages_fts.rowid
JOIN conversations AS c ON c.id = m.conversation_id
JOIN clients AS cl ON cl.id = c.client_id
WHERE messages_fts MATCH :query AND cl.identity = :owner
ORDER BY bm25(messages_fts), m.id DESC
LIMIT :limit
""").columns(created_at=DateTime(timezone=True))

POSTGRES = text(f"""
SELECT m.id, m.conversation_id, c.title, m.role, m.created_at,
       ts_headline('simple', m.content, q.query,
                   'StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=8, ShortWord=0') AS snippet
FROM messages AS m
CROSS JOIN (SELECT to_tsquery('simple', :query) AS query) AS q
JOIN conversations AS c ON c.id = m.conversation_id
JOIN clients AS cl ON cl.id = c.client_id
WHERE m.search_vector @@ q.query AND cl.identity = :owner
ORDER BY ts_rank(m.search_vector, q.query) DESC, m.id DESC
LIMIT :limit
""").columns(created_at=DateTime(timezone=True))


def query_terms(query: str) -> list[str]:
    """The words of the user's text (letters and digits), lower-cased, at most MAX_TERMS."""
    return [term.lower() for term in re.findall(r"[^\W_]+", query)][:MAX_TERMS]


def segments(snippet: str) -> tuple[tuple[str, bool], ...]:
    """ "a \ue000b\ue001 c" -> (("a ", False), ("b", True), (" c", False))."""
    parts: list[tuple[str, bool]] = []
    for index, chunk in enumerate(re.split(f"[{START}{STOP}]", snippet or "")):
        if chunk:
            parts.append((chunk, index % 2 == 1))
    return tuple(parts)


def search_messages(session: Session, owner: str, query: str, limit: int) -> list[SearchHit]:
    terms = query_terms(query)
    if not terms:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        statement, compiled = SQLITE, " ".join(f'"{term}"*' for term in terms)
    elif dialect == "postgresql":
        statement, compiled = POSTGRES, " & ".join(f"{term}:*" for term in terms)
    else:
        raise NotImplementedError(f"full-text search is not set up for {dialect}")
    rows = session.execute(statement, {"query": compiled, "owner": owner, "limit": limit})
    return [
        SearchHit(
            conversation_id=row.conversation_id,
            conversation_title=row.title,
            message_id=row.id,
            role=row.role,
            created_at=as_utc(row.created_at),
            snippet=segments(row.snippet),
        )
        for row in rows
    ]
