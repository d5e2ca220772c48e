"""A conversation as a downloadable file (GET /api/conversations/{id}/export): JSON or Markdown.

An export holds every message of the conversation, not only the branch on screen: each version of a message
(edits, regenerations) and everything that grew under it, since the app promises nothing is thrown away. The branch
the app shows is marked (`on_screen` in JSON; in Markdown it comes first, the other versions after it under "Other
versions", each saying which message it follows), and the file says what it holds.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from llmchat.api import documents
from llmchat.api.serializers import COMPARE_ONLY, dump, iso, message_fields, summary_fields, vote_fields
from llmchat.store import ConversationRecord, FeedbackRecord, MessageRecord, VoteRecord
from llmchat.store.tree import depth_first

EXPORT_VERSION = 2  # 1: the branch on screen only
HOLDS = (
    "every message of the conversation: each version of each message (edits, regenerations) and the messages "
    "under it; on_screen marks the branch the app shows"
)
VERDICTS = {"left": "left is better", "right": "right is better", "tie": "a tie", "both_bad": "both bad"}


@dataclass(frozen=True)
class Section:
    """One column's messages (a chat has one column): the branch on screen, then every other version."""

    model: str | None
    on_screen: tuple[MessageRecord, ...]
    others: tuple[MessageRecord, ...]


def sections(record: ConversationRecord) -> list[Section]:
    """`record` must be read with whole_tree=True."""
    branches = (
        [(c.model, c.messages) for c in record.columns] if record.kind == "compare" else [(None, record.messages)]
    )
    result = []
    for column, (model, branch) in enumerate(branches):
        shown = {m.id for m in branch}
        mine = [m for m in record.tree if m.column == column]
        others = tuple(m for m in depth_first(mine) if m.id not in shown)
        result.append(Section(model, tuple(branch), others))
    return result


def _on_screen_ids(parts: list[Section]) -> set[int]:
    return {m.id for part in parts for m in part.on_screen}


# JSON -----------------------------------------------------------------------------------------------------
def export_json(record: ConversationRecord) -> str:
    parts = sections(record)
    shown = _on_screen_ids(parts)
    fields: dict[str, Any] = {
        "export": {"version": EXPORT_VERSION, "holds": HOLDS, "messages": len(record.tree), "on_screen": len(shown)},
        **summary_fields(record),
        "current_leaf_id": record.current_leaf_id,
        # oldest first; parent_id and sibling_ids give the tree
        "messages": [{**message_fields(m), "on_screen": m.id in shown} for m in record.tree],
    }
    if record.kind == "compare":
        hidden = record.models_hidden
        fields["columns"] = [{"model": None if hidden else part.model} for part in parts]
        fields["votes"] = [vote_fields(vote) for vote in record.votes]
    document = dump(documents.ConversationExport, fields, exclude=None if record.kind == "compare" else COMPARE_ONLY)
    # what the file holds first, for whoever opens it (the document model lists the summary's fields first)
    document = {"export": document.pop("export"), **document}
    return json.dumps(document, ensure_ascii=False, indent=2)


# Markdown -------------------------------------------------------------------------------------------------
def _model_name(model: str | None, hidden: bool) -> str:
    return "hidden until you vote" if hidden else model or "unknown model"


def _markdown_feedback(feedback: FeedbackRecord | None) -> list[str]:
    if feedback is None:
        return []
    lines = (
        [f"*Your rating: {'thumbs up' if feedback.rating == 'up' else 'thumbs down'}*", ""] if feedback.rating else []
    )
    if feedback.correction:
        lines += ["*Your better answer:*", "", *[f"> {line}".rstrip() for line in feedback.correction.splitlines()], ""]
    return lines


class _Numbers:
    """Each message's number in the file (#1, #2, ...), in the order written."""

    def __init__(self) -> None:
        self.of: dict[int, int] = {}

    def take(self, message: MessageRecord) -> int:
        self.of[message.id] = len(self.of) + 1
        return self.of[message.id]


def _message_lines(message: MessageRecord, numbers: _Numbers, on_screen: bool) -> list[str]:
    who = "You" if message.role == "user" else f"Assistant ({_model_name(message.model, message.model_hidden)})"
    note = "" if message.status == "complete" else f" — {message.status}"
    if message.finish_reason == "length":
        note += " — cut off"
    facts = [f"#{numbers.take(message)}", iso(message.created_at)]
    versions = message.sibling_ids or (message.id,)
    if len(versions) > 1:
        facts.append(f"version {versions.index(message.id) + 1} of {len(versions)}")
    if on_screen:
        facts.append("on screen")
    elif message.parent_id in numbers.of:
        facts.append(f"after #{numbers.of[message.parent_id]}")
    else:
        facts.append("a first message")
    lines = [f"## {who}{note}", "", f"*{' · '.join(facts)}*", "", message.content, ""]
    return lines + _markdown_feedback(message.feedback)


def _section_lines(part: Section, numbers: _Numbers, heading: str) -> list[str]:
    lines: list[str] = []
    for message in part.on_screen:
        lines += _message_lines(message, numbers, on_screen=True)
    if part.others:
        lines += [f"# {heading}", ""]
        for message in part.others:
            lines += _message_lines(message, numbers, on_screen=False)
    return lines


def export_markdown(record: ConversationRecord) -> str:
    """The branch on screen, then the other versions (a compare session: each column in turn, then its votes)."""
    parts = sections(record)
    shown = len(_on_screen_ids(parts))
    others = len(record.tree) - shown
    lines = [
        f"# {record.title}",
        "",
        f"Exported from llmchat. Started {iso(record.created_at)}.",
        "",
        f"This file holds every message of the conversation ({len(record.tree)}): the {shown} on screen (the branch "
        f"the app shows) first, then {others} other version{'s' if others != 1 else ''} (edits, regenerations and "
        'the messages under them) under "Other versions". Messages are numbered; "after #N" names the message one '
        "follows.",
        "",
    ]
    numbers = _Numbers()
    if record.kind != "compare":
        return "\n".join(lines + _section_lines(parts[0], numbers, "Other versions"))
    for index, part in enumerate(parts, start=1):
        lines += [f"# Column {index}: {_model_name(part.model, record.models_hidden)}", ""]
        lines += _section_lines(part, numbers, f"Other versions in column {index}")
    if record.votes:
        lines += ["# Votes", ""] + [_markdown_vote(vote) for vote in record.votes] + [""]
    return "\n".join(lines)


def _markdown_vote(vote: VoteRecord) -> str:
    prompt = " ".join(vote.prompt.split())
    return f"- {prompt!r}: {VERDICTS[vote.winner]} (left {vote.left.model}, right {vote.right.model})"


# the attachment -------------------------------------------------------------------------------------------
def title_slug(title: str, limit: int = 80) -> str:
    """An ASCII file name from a title: "Café in Köln!" -> "cafe-in-koln"; "conversation" when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or "conversation"


def attachment_header(title: str, suffix: str) -> str:
    """Content-Disposition named after the title: an ASCII slug, plus the title itself per RFC 5987."""
    full = re.sub(r'[\x00-\x1f\x7f/\\"]+', " ", title).strip() or "conversation"
    return (
        f"attachment; filename=\"{title_slug(title)}.{suffix}\"; filename*=UTF-8''{quote(f'{full}.{suffix}', safe='')}"
    )
