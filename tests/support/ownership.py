"""Every request that acts on one conversation or reply: another identity must get 404 from each (never 403), in
the end-to-end isolation test (real sockets from other addresses) and in the fast tier alike."""

from __future__ import annotations

from typing import Any


def requests_on(conversation_id: str, reply_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, JSON body) for each route that reads or changes the conversation or its reply."""
    return [
        ("GET", f"/api/conversations/{conversation_id}", None),
        ("PATCH", f"/api/conversations/{conversation_id}", {"title": "mine now"}),
        ("DELETE", f"/api/conversations/{conversation_id}", None),
        ("GET", f"/api/conversations/{conversation_id}/export", None),
        ("POST", f"/api/conversations/{conversation_id}/regenerate", {}),
        ("POST", "/api/chat", {"message": "add to it", "model": "tiny-chat", "conversation_id": conversation_id}),
        (
            "POST",
            "/api/chat",
            {"message": "edit it", "model": "tiny-chat", "conversation_id": conversation_id, "parent_id": reply_id},
        ),
        ("PUT", f"/api/conversations/{conversation_id}/current", {"message_id": reply_id}),
        ("POST", f"/api/messages/{reply_id}/continue", {}),
        ("PUT", f"/api/messages/{reply_id}/feedback", {"rating": "up"}),
    ]
