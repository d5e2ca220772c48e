"""The soak's end checks: is everything each user was told is stored there, under that user's address only?

Through the API (works against any server): each user lists its conversations and reads every one of them whole
(every branch: `PUT .../current` on each version not yet seen, until every `sibling_ids` entry was visited and the
count matches `message_count`); another user's GET of it is 404; deleted ones are gone. Through the database
(when the soak started the stack itself): each conversation's owner address, and no message left `streaming` or
`pending`, read directly, so the API's own settling of stale streams cannot hide one.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench.soak_ledger import Exchange, Ledger
from tests.support.api_server import from_address

SETTLE_GRACE_S = 5.0  # a reply whose client just timed out is saved within a poll interval: allow for it


class Reader:
    """Read-only access to one user's conversations through the API."""

    def __init__(self, url: str, address: str, timeout: float):
        self.http = from_address(url, address, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def listed(self) -> list[str]:
        response = self.http.get("/api/conversations")
        response.raise_for_status()
        return [c["id"] for c in response.json()["conversations"]]

    def status_of(self, conversation_id: str) -> int:
        return self.http.get(f"/api/conversations/{conversation_id}").status_code

    def whole_tree(self, conversation_id: str) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
        """The conversation's summary and every message of every branch, by id."""
        document = self.http.get(f"/api/conversations/{conversation_id}").raise_for_status().json()
        seen: dict[int, dict[str, Any]] = {}
        pending: list[int] = []

        def take(doc: dict[str, Any]) -> None:
            for message in doc["messages"]:
                seen[message["id"]] = message
                pending.extend(i for i in message["sibling_ids"] if i not in seen)

        take(document)
        for _ in range(document["message_count"] + len(pending) + 1):
            pending[:] = [i for i in pending if i not in seen]
            if not pending:
                break
            response = self.http.put(f"/api/conversations/{conversation_id}/current", json={"message_id": pending[0]})
            take(response.raise_for_status().json())
            document = response.json()
        return document, seen


def check_through_api(url: str, ledgers: list[Ledger], timeout: float = 60.0) -> tuple[list[str], Counter]:
    """Problems found (empty: nothing lost or misplaced) and what was verified, counted."""
    problems: list[str] = []
    verified: Counter = Counter()
    readers = [Reader(url, ledger.address, timeout) for ledger in ledgers]
    try:
        lists = [reader.listed() for reader in readers]
        owners: dict[str, list[int]] = {}
        for index, listed in enumerate(lists):
            for conversation_id in listed:
                owners.setdefault(conversation_id, []).append(index)
        for conversation_id, who in owners.items():
            if len(who) > 1:
                problems.append(f"conversation {conversation_id} is listed for users {who}")
        for index, (ledger, reader) in enumerate(zip(ledgers, readers)):
            neighbour = readers[(index + 1) % len(readers)] if len(readers) > 1 else None
            problems += _check_user(index, ledger, reader, neighbour, set(lists[index]), verified)
    finally:
        for reader in readers:
            reader.close()
    return problems, verified


def _check_user(
    index: int, ledger: Ledger, reader: Reader, neighbour: Reader | None, listed: set[str], verified: Counter
) -> list[str]:
    problems = []
    who = f"user {index} ({ledger.address})"
    kept, deleted = set(ledger.kept()), set(ledger.deleted())
    if kept - listed:
        problems.append(f"{who}: conversations not listed: {sorted(kept - listed)}")
    if deleted & listed:
        problems.append(f"{who}: deleted conversations still listed: {sorted(deleted & listed)}")
    strangers = listed - kept - deleted
    if len(strangers) > ledger.maybe_new_conversations:
        problems.append(f"{who}: lists conversations it never created: {sorted(strangers)}")
    for conversation_id in deleted:
        if reader.status_of(conversation_id) != 404:
            problems.append(f"{who}: deleted conversation {conversation_id} still answers")
        verified["deleted conversations gone"] += 1
    for conversation_id in sorted(kept & listed):
        if neighbour is not None and neighbour.status_of(conversation_id) != 404:
            problems.append(f"{who}: conversation {conversation_id} answers another address")
        problems += _check_conversation(who, ledger, reader, conversation_id, verified)
    return problems


def _check_conversation(who: str, ledger: Ledger, reader: Reader, conversation_id: str, verified: Counter) -> list[str]:
    deadline = time.monotonic() + SETTLE_GRACE_S
    while True:
        document, messages = reader.whole_tree(conversation_id)
        unsettled = [m["id"] for m in messages.values() if m["status"] in ("streaming", "pending")]
        if not unsettled or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    problems = [
        f"{who}: conversation {conversation_id}: messages still {messages[i]['status']}: {i}" for i in unsettled
    ]
    if len(messages) != document["message_count"]:
        problems.append(
            f"{who}: conversation {conversation_id}: {len(messages)} messages reachable, "
            f"{document['message_count']} counted"
        )
    if conversation_id in ledger.titles and document["title"] != ledger.titles[conversation_id]:
        problems.append(
            f"{who}: conversation {conversation_id}: title {document['title']!r}, "
            f"renamed to {ledger.titles[conversation_id]!r}"
        )
    verified["conversations read whole"] += 1
    verified["messages read"] += len(messages)
    for exchange in ledger.exchanges_in(conversation_id):
        problems += [f"{who}: {problem}" for problem in _check_exchange(exchange, messages)]
        verified[f"exchanges ({exchange.status})"] += 1
    for user_id, where in ledger.failed_user_messages.items():
        if where == conversation_id and user_id not in messages:
            problems.append(f"{who}: conversation {conversation_id}: failed message {user_id} was not kept")
    return problems


def _check_exchange(exchange: Exchange, messages: dict[int, dict[str, Any]]) -> list[str]:
    where = f"conversation {exchange.conversation_id}"
    user, reply = messages.get(exchange.user_id), messages.get(exchange.reply_id)
    if user is None or user["role"] != "user" or user["content"] != exchange.text:
        return [f"{where}: user message {exchange.user_id} is missing or changed: {user}"]
    if user["parent_id"] != exchange.user_parent_id:
        return [f"{where}: user message {exchange.user_id} moved under {user['parent_id']}"]
    if reply is None:
        missing = f"{where}: reply {exchange.reply_id} ({exchange.status}) is missing"
        return [] if exchange.status == "unknown" else [missing]
    if reply["parent_id"] != exchange.user_id or reply["role"] != "assistant":
        return [f"{where}: reply {exchange.reply_id} does not answer message {exchange.user_id}"]
    if exchange.answered and (reply["status"] != "complete" or reply["content"] != exchange.reply):
        stored = f"{reply['content']!r} ({reply['status']})"
        return [f"{where}: reply {exchange.reply_id} was answered {exchange.reply!r} (complete) but is {stored}"]
    if not reply["content"].startswith(exchange.reply):
        return [f"{where}: reply {exchange.reply_id} lost text: {exchange.reply!r} -> {reply['content']!r}"]
    return []


def check_database(database_url: str, ledgers: list[Ledger]) -> tuple[list[str], Counter]:
    """Read the store directly: owner address of every conversation, and no message left unfinished."""
    from sqlalchemy import func, select

    from llmchat.store import open_database
    from llmchat.store.models import Client, Conversation, Message

    database = open_database(database_url, migrate=False)
    try:
        with database.sessions() as session:
            owned = select(Conversation.id, Client.identity).join(Client, Client.id == Conversation.client_id)
            # identities are `ip:<address>` in the default identity mode the soak runs in: compare the addresses
            owner = {cid: identity.removeprefix("ip:") for cid, identity in session.execute(owned).all()}
            statuses = Counter(
                dict(session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
            )
            home = dict(session.execute(select(Message.id, Message.conversation_id)).all())
    finally:
        database.dispose()
    problems = [f"database: {statuses[s]} messages left {s}" for s in ("streaming", "pending") if statuses[s]]
    known = set()
    for ledger in ledgers:
        for conversation_id, kept in ledger.conversations.items():
            known.add(conversation_id)
            if kept and owner.get(conversation_id) != ledger.address:
                problems.append(
                    f"database: conversation {conversation_id} of {ledger.address} belongs to "
                    f"{owner.get(conversation_id)}"
                )
            if not kept and conversation_id in owner:
                problems.append(f"database: deleted conversation {conversation_id} is still stored")
        for exchange in ledger.exchanges.values():
            if exchange.answered and home.get(exchange.reply_id) != exchange.conversation_id:
                problems.append(
                    f"database: reply {exchange.reply_id} is in {home.get(exchange.reply_id)}, "
                    f"not {exchange.conversation_id}"
                )
    unaccounted = set(owner) - known
    if len(unaccounted) > sum(ledger.maybe_new_conversations for ledger in ledgers):
        problems.append(f"database: conversations nobody created: {sorted(unaccounted)}")
    return problems, Counter({f"stored messages {s}": n for s, n in statuses.items()})
