"""The message tree of one conversation, as pure functions over its records (no database access).

Every message has a parent (None for a first message); messages with the same parent, role and column are
versions of each other (siblings). The branch on screen is the path from a root down to one leaf.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from llmchat.store.records import ConversationRecord, MessageRecord


def with_sibling_ids(messages: Iterable[MessageRecord]) -> list[MessageRecord]:
    """The records with `sibling_ids` filled in (ids ascending: oldest first)."""
    messages = sorted(messages, key=lambda m: m.id)
    groups: dict[tuple[int | None, str, int], list[int]] = defaultdict(list)
    for message in messages:
        groups[(message.parent_id, message.role, message.column)].append(message.id)
    return [m.with_siblings(tuple(groups[(m.parent_id, m.role, m.column)])) for m in messages]


def path_to(messages: Sequence[MessageRecord], leaf_id: int | None) -> list[MessageRecord]:
    """Root first, down to `leaf_id` (inclusive); [] for an unknown id."""
    by_id = {m.id: m for m in messages}
    path: list[MessageRecord] = []
    current = by_id.get(leaf_id) if leaf_id is not None else None
    while current is not None and len(path) <= len(by_id):  # the bound guards against a (corrupt) cycle
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return path[::-1]


def newest_in_column(messages: Sequence[MessageRecord], column: int) -> MessageRecord | None:
    candidates = [m for m in messages if m.column == column]
    return max(candidates, key=lambda m: m.id) if candidates else None


def newest_leaf_under(messages: Sequence[MessageRecord], message_id: int) -> int:
    """From `message_id` down, always to the newest child: where a switch to this version leads."""
    children: dict[int, list[int]] = defaultdict(list)
    for message in messages:
        if message.parent_id is not None:
            children[message.parent_id].append(message.id)
    current, steps = message_id, 0
    while children.get(current) and steps <= len(messages):
        current = max(children[current])
        steps += 1
    return current


def leaf_of_column(messages: Sequence[MessageRecord], current_leaf_id: int | None, column: int) -> int | None:
    """The last message of a column's branch on screen: the remembered leaf (column 0 of a chat) when it still
    exists, else the newest message of the column."""
    if column == 0 and current_leaf_id is not None and any(m.id == current_leaf_id for m in messages):
        return current_leaf_id
    newest = newest_in_column(messages, column)
    return newest.id if newest else None


def parent_of_new_message(conversation: ConversationRecord, column: int = 0) -> int | None:
    """Where a new message of `column` goes when no parent is named: after the column's branch on screen. The
    conversation must have been read with its whole tree (get_conversation(whole_tree=True))."""
    remembered = conversation.current_leaf_id if conversation.kind == "chat" else None
    return leaf_of_column(conversation.tree, remembered, column)


def branch_on_screen(
    messages: Sequence[MessageRecord], current_leaf_id: int | None, column: int = 0
) -> list[MessageRecord]:
    return path_to(messages, leaf_of_column(messages, current_leaf_id, column))


def depth_first(messages: Sequence[MessageRecord]) -> list[MessageRecord]:
    """Every message, each followed by what grew under it (a version's replies before its next version), versions
    oldest first: the order an export lists a conversation's other branches in. A message whose parent is not among
    `messages` counts as a first message."""
    ids = {m.id for m in messages}
    children: dict[int | None, list[MessageRecord]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: m.id):
        children[message.parent_id if message.parent_id in ids else None].append(message)
    ordered: list[MessageRecord] = []
    stack = list(reversed(children[None]))
    while stack:
        message = stack.pop()
        ordered.append(message)
        stack.extend(reversed(children[message.id]))
    return ordered
