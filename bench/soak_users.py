"""A simulated soak user: weighted random actions against the chat API, each outcome written to its ledger.

One user is one thread with one address; its requests are sequential, so what it expects is exact: after its own
delete a conversation is gone, after its own chat the reply is stored. Immediate checks (a list showing a
conversation it does not own, a search hit in one, a version switch that does not show the version, another
user's conversation answering anything but 404) are written to the ledger as violations.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.soak_client import SoakClient, StreamResult
from bench.soak_ledger import Exchange, Ledger

QUESTIONS = (
    "What is the capital of France?",
    "Name three colours.",
    "Write a haiku about rain.",
    "How many legs does a spider have?",
    "Explain photosynthesis in one sentence.",
    "Give me a synonym for happy.",
    "What is 12 times 7?",
    "Suggest a name for a cat.",
    "Why is the sky blue?",
    "Translate hello into Spanish.",
    "List two planets.",
    "What is a prime number?",
)

# relative frequencies of the actions; generating ones dominate, as in real use
WEIGHTS = {
    "new_chat": 10,
    "follow_up": 12,
    "edit": 5,
    "regenerate": 6,
    "continue_reply": 4,
    "switch_version": 4,
    "list": 8,
    "get": 8,
    "export": 4,
    "rename": 3,
    "search": 4,
    "delete": 3,
    "peek": 3,
}
GENERATING = ("new_chat", "follow_up", "edit", "regenerate", "continue_reply")


class Directory:
    """Conversation and reply ids each user owns, so that other users can try to reach them (and must get 404)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._owned: dict[str, tuple[int, str]] = {}  # "c:<id>" / "m:<id>" -> (owner, id)

    def publish(self, owner: int, conversation_id: str | None = None, reply_id: int | None = None) -> None:
        with self._lock:
            if conversation_id:
                self._owned[f"c:{conversation_id}"] = (owner, conversation_id)
            if reply_id:
                self._owned[f"m:{reply_id}"] = (owner, str(reply_id))

    def foreign(self, user: int, kind: str, rng: random.Random) -> str | None:
        with self._lock:
            ids = [value for key, (owner, value) in self._owned.items() if owner != user and key[0] == kind]
        return rng.choice(ids) if ids else None


def marker(user: int) -> str:
    """A word only this user's messages contain (searching for it must find only this user's conversations)."""
    return f"zqu{user:02d}"


class SimUser:
    def __init__(
        self,
        index: int,
        client: SoakClient,
        ledger: Ledger,
        directory: Directory,
        models: list[str],
        rng: random.Random,
        deadline: float,
        max_tokens: tuple[int, int] = (12, 32),
    ):
        self.index = index
        self.client = client
        self.ledger = ledger
        self.directory = directory
        self.models = models
        self.rng = rng
        self.deadline = deadline
        self.max_tokens = max_tokens
        self.sent = 0
        self.actions: dict[str, Callable[[], None]] = {name: getattr(self, name) for name in WEIGHTS}

    def run(self, max_actions: int = 100_000) -> None:
        names, weights = list(WEIGHTS), list(WEIGHTS.values())
        for _ in range(max_actions):
            if time.monotonic() >= self.deadline:
                return
            self.actions[self.rng.choices(names, weights)[0]]()

    # generating actions -----------------------------------------------------------------------------
    def new_chat(self) -> None:
        body = {"message": self._text(), "model": self.rng.choice(self.models)}
        self._generate("new", "/api/chat", body, new_conversation=True)

    def follow_up(self) -> None:
        conversation = self._kept()
        if conversation is None:
            return self.new_chat()
        model = self.rng.choice(self.models)
        self._generate(
            "follow", "/api/chat", {"message": self._text(), "model": model, "conversation_id": conversation}
        )

    def edit(self) -> None:
        """A new version of an earlier user message: same parent, so a sibling on a new branch."""
        earlier = self._exchange()
        if earlier is None:
            return self.new_chat()
        body = {
            "message": self._text(),
            "model": self.rng.choice(self.models),
            "conversation_id": earlier.conversation_id,
            "parent_id": earlier.user_parent_id,
        }
        exchange = self._generate("edit", "/api/chat", body)
        if exchange is not None and exchange.user_parent_id != earlier.user_parent_id:
            self.ledger.violations.append(
                f"edit of message {earlier.user_id}: the new message {exchange.user_id} "
                f"follows {exchange.user_parent_id}, not {earlier.user_parent_id}"
            )

    def regenerate(self) -> None:
        earlier = self._exchange()
        if earlier is None:
            return self.new_chat()
        body: dict[str, Any] = {}
        if self.rng.random() < 0.5:
            body["message_id"] = earlier.user_id
        path = f"/api/conversations/{earlier.conversation_id}/regenerate"
        exchange = self._generate("regenerate", path, body)
        if exchange is not None and "message_id" in body and exchange.user_id != earlier.user_id:
            self.ledger.violations.append(f"regenerate of message {earlier.user_id} answered {exchange.user_id}")

    def continue_reply(self) -> None:
        """Extend a reply that was cut off at max_tokens (or stopped)."""
        candidates = [e for e in self.ledger.exchanges.values() if e.finish_reason == "length" or e.status == "stopped"]
        if not candidates:
            return self.new_chat()
        exchange = self.rng.choice(candidates)
        stream = self.rng.random() < 0.5
        body = {"stream": stream, "params": {"max_tokens": self.rng.randint(*self.max_tokens)}}
        endpoint = f"POST /api/messages/{{id}}/continue{' (stream)' if stream else ''}"
        path = f"/api/messages/{exchange.reply_id}/continue"
        if stream:
            _, result = self.client.stream(endpoint, path, body)
            message = (result.get("done") or result.get("error") or {}).get("message")
        else:
            response = self.client.call(endpoint, "POST", path, json=body)
            message = response.json().get("message") if response is not None and response.status_code == 200 else None
        if message is None:
            return
        if message["id"] != exchange.reply_id or not message["content"].startswith(exchange.reply):
            self.ledger.violations.append(
                f"continue of reply {exchange.reply_id} gave message {message['id']} "
                f"whose text does not start with the earlier text"
            )
        exchange.reply, exchange.status = message["content"], message["status"]
        exchange.finish_reason = message["finish_reason"]

    # reading and managing ----------------------------------------------------------------------------
    def switch_version(self) -> None:
        exchange = self._exchange()
        if exchange is None:
            return
        target = exchange.reply_id if exchange.status == "complete" else exchange.user_id
        response = self.client.call(
            "PUT /api/conversations/{id}/current",
            "PUT",
            f"/api/conversations/{exchange.conversation_id}/current",
            json={"message_id": target},
        )
        if response is not None and response.status_code == 200:
            shown = [m["id"] for m in response.json()["messages"]]
            if target not in shown:
                self.ledger.violations.append(f"switching to message {target} shows the branch {shown}")

    def list(self) -> None:
        response = self.client.call("GET /api/conversations", "GET", "/api/conversations")
        if response is None or response.status_code != 200:
            return
        listed = [c["id"] for c in response.json()["conversations"]]
        strangers = [cid for cid in listed if cid not in self.ledger.conversations]
        gone = [cid for cid in listed if self.ledger.conversations.get(cid) is False]
        missing = [cid for cid in self.ledger.kept() if cid not in listed]
        if len(strangers) > self.ledger.maybe_new_conversations or gone or missing:
            self.ledger.violations.append(f"list: not this user's {strangers}, deleted {gone}, missing {missing}")

    def get(self) -> None:
        conversation = self._kept()
        if conversation is None:
            return
        response = self.client.call("GET /api/conversations/{id}", "GET", f"/api/conversations/{conversation}")
        if response is None or response.status_code != 200:
            return
        messages = response.json()["messages"]
        parents = [m["parent_id"] for m in messages]
        if parents and parents != [None] + [m["id"] for m in messages[:-1]]:
            self.ledger.violations.append(f"conversation {conversation}: the branch on screen is not a path")

    def export(self) -> None:
        conversation = self._kept()
        if conversation is None:
            return
        kind = self.rng.choice(("json", "markdown"))
        response = self.client.call(
            f"GET /api/conversations/{{id}}/export ({kind})",
            "GET",
            f"/api/conversations/{conversation}/export",
            params={"format": kind},
        )
        if response is None or response.status_code != 200:
            return
        if (kind == "json" and response.json()["id"] != conversation) or (
            kind == "markdown" and not response.text.startswith("# ")
        ):
            self.ledger.violations.append(f"export {kind} of {conversation}: unexpected document")

    def rename(self) -> None:
        conversation = self._kept()
        if conversation is None:
            return
        title = f"Soak {marker(self.index)} {self.sent}"
        response = self.client.call(
            "PATCH /api/conversations/{id}", "PATCH", f"/api/conversations/{conversation}", json={"title": title}
        )
        if response is not None and response.status_code == 200:
            self.ledger.titles[conversation] = title

    def search(self) -> None:
        """Every hit must be in one of this user's kept conversations, whoever else wrote the same words."""
        query = self.rng.choice((marker(self.index), "zqu", self.rng.choice(QUESTIONS).split()[-1].strip("?.")))
        response = self.client.call("GET /api/search", "GET", "/api/search", params={"q": query, "limit": 50})
        if response is None or response.status_code != 200:
            return
        strangers = {hit["conversation_id"] for hit in response.json()["results"]} - set(self.ledger.kept())
        if len(strangers) > self.ledger.maybe_new_conversations:
            self.ledger.violations.append(f"search {query!r} found conversations not this user's: {strangers}")

    def delete(self) -> None:
        conversation = self._kept()
        if conversation is None:
            return
        response = self.client.call(
            "DELETE /api/conversations/{id}", "DELETE", f"/api/conversations/{conversation}", expect=(204,)
        )
        if response is not None and response.status_code == 204:
            self.ledger.forget_conversation(conversation)

    def peek(self) -> None:
        """Reach for another user's conversation or reply: every route must answer 404."""
        conversation = self.directory.foreign(self.index, "c", self.rng)
        reply = self.directory.foreign(self.index, "m", self.rng)
        if conversation is None or reply is None:
            return
        tries = [
            ("GET", f"/api/conversations/{conversation}", {}),
            ("DELETE", f"/api/conversations/{conversation}", {}),
            ("PATCH", f"/api/conversations/{conversation}", {"json": {"title": "taken"}}),
            ("GET", f"/api/conversations/{conversation}/export", {}),
            ("PUT", f"/api/conversations/{conversation}/current", {"json": {"message_id": int(reply)}}),
            ("POST", f"/api/messages/{reply}/continue", {"json": {}}),
        ]
        method, path, kwargs = self.rng.choice(tries)
        endpoint = f"{method} {path.replace(conversation, '{id}').replace(reply, '{id}')} (another user's)"
        self.client.call(endpoint, method, path, expect=(404,), **kwargs)

    # helpers -------------------------------------------------------------------------------------------
    def _text(self) -> str:
        self.sent += 1
        return f"{self.rng.choice(QUESTIONS)} ({marker(self.index)}n{self.sent})"

    def _kept(self) -> str | None:
        kept = self.ledger.kept()
        return self.rng.choice(kept) if kept else None

    def _exchange(self) -> Exchange | None:
        known = [e for e in self.ledger.exchanges.values() if e.status != "unknown"]
        return self.rng.choice(known) if known else None

    def _generate(self, kind: str, path: str, body: dict[str, Any], new_conversation: bool = False) -> Exchange | None:
        """Send a generating request (streamed or not, at random) and record what the API said it stored."""
        stream = self.rng.random() < 0.5
        body = {**body, "stream": stream, "params": {"max_tokens": self.rng.randint(*self.max_tokens)}}
        route = "/api/chat" if path == "/api/chat" else "/api/conversations/{id}/regenerate"
        endpoint = f"POST {route}{' (stream)' if stream else ''}"
        if stream:
            response, result = self.client.stream(endpoint, path, body)
            exchange = self._from_stream(kind, result)
        else:
            response = self.client.call(endpoint, "POST", path, json=body)
            exchange = (
                self._from_json(kind, response.json()) if response is not None and response.status_code == 200 else None
            )
        if exchange is None:
            self._note_unanswered(response, new_conversation)
            return None
        self.directory.publish(self.index, exchange.conversation_id)
        if exchange.status == "removed":  # failed before its first word: the reply row is gone, the message stays
            self.ledger.conversations.setdefault(exchange.conversation_id, True)
            self.ledger.failed_user_messages[exchange.user_id] = exchange.conversation_id
            return None
        self.ledger.record(exchange)
        self.directory.publish(self.index, exchange.conversation_id, exchange.reply_id)
        return exchange

    def _from_json(self, kind: str, data: dict[str, Any]) -> Exchange:
        user, reply = data["user_message"], data["message"]
        return Exchange(
            data["conversation_id"],
            user["id"],
            user["parent_id"],
            user["content"],
            reply["id"],
            reply["content"],
            reply["status"],
            reply["finish_reason"],
            kind,
        )

    def _from_stream(self, kind: str, result: StreamResult) -> Exchange | None:
        start = result.get("start")
        if start is None:
            return None
        user = start["user_message"]
        end = result.get("done") or result.get("error") or {}
        # no message at the end: the stream broke off (unknown), or the reply failed before its first word and its
        # empty row was removed
        reply = end.get("message") or {
            "content": "",
            "status": "removed" if result.complete else "unknown",
            "finish_reason": None,
        }
        return Exchange(
            start["conversation_id"],
            user["id"],
            user["parent_id"],
            user["content"],
            start["message"]["id"],
            reply["content"],
            reply["status"],
            reply["finish_reason"],
            kind,
        )

    def _note_unanswered(self, response, new_conversation: bool) -> None:
        """No reply: a refused request stored nothing; a failed one may have stored the user's message; a timed
        out new chat may have created a conversation."""
        if response is None:
            self.ledger.maybe_new_conversations += int(new_conversation)
            return
        if response.status_code < 500 or (response.status_code == 503 and "conversation_id" not in response.text):
            return
        try:
            data = response.json()
        except ValueError:
            return
        if data.get("conversation_id"):
            self.ledger.conversations.setdefault(data["conversation_id"], True)
            if data.get("user_message"):
                self.ledger.failed_user_messages[data["user_message"]["id"]] = data["conversation_id"]
