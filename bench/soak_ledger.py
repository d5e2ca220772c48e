"""What a soak user did and expects: its conversations and exchanges, and every request's status and latency.

Each simulated user owns one Ledger and one CallLog (no shared mutable state between user threads); the soak merges
the call logs for the report once every user has finished.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Exchange:
    """A user message and the reply the API named for it, as the API last described them."""

    conversation_id: str
    user_id: int
    user_parent_id: int | None
    text: str  # what the user sent (the API stores it stripped; the soak sends it stripped)
    reply_id: int
    reply: str  # the reply's text as last returned
    status: str  # the reply's status as last returned; "unknown" when the answer never arrived
    finish_reason: str | None = None
    kind: str = "new"  # new | follow | edit | regenerate (a Continue updates the exchange it extends)

    @property
    def answered(self) -> bool:
        return self.status == "complete"


@dataclass
class Ledger:
    """One user's expectations."""

    address: str
    conversations: dict[str, bool] = field(default_factory=dict)  # id -> kept (False: deleted by this user)
    exchanges: dict[int, Exchange] = field(default_factory=dict)  # by reply id
    failed_user_messages: dict[int, str] = field(default_factory=dict)  # user id -> conversation (no reply)
    titles: dict[str, str] = field(default_factory=dict)  # conversation -> the title this user set last
    maybe_new_conversations: int = 0  # new chats whose answer never came (timeout): they may exist
    violations: list[str] = field(default_factory=list)  # seen during the run (a 5xx, a stray hit, ...)

    def kept(self) -> list[str]:
        return [cid for cid, kept in self.conversations.items() if kept]

    def deleted(self) -> list[str]:
        return [cid for cid, kept in self.conversations.items() if not kept]

    def exchanges_in(self, conversation_id: str) -> list[Exchange]:
        return [e for e in self.exchanges.values() if e.conversation_id == conversation_id]

    def record(self, exchange: Exchange) -> None:
        self.conversations.setdefault(exchange.conversation_id, True)
        self.exchanges[exchange.reply_id] = exchange

    def forget_conversation(self, conversation_id: str) -> None:
        self.conversations[conversation_id] = False
        self.titles.pop(conversation_id, None)
        for reply_id in [r for r, e in self.exchanges.items() if e.conversation_id == conversation_id]:
            del self.exchanges[reply_id]
        for user_id in [u for u, c in self.failed_user_messages.items() if c == conversation_id]:
            del self.failed_user_messages[user_id]


@dataclass
class CallLog:
    """Status (an HTTP status, or "timeout" / an error's name) and latency of every request, per endpoint."""

    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    codes: Counter = field(default_factory=Counter)  # refusal and error codes (429 rate_limited, 503 server_busy...)
    # code -> the messages that came with it, addresses and numbers masked so that alike ones count together
    messages: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(
        self, endpoint: str, status: int | str, seconds: float, code: str | None = None, message: str | None = None
    ) -> None:
        self.statuses[endpoint][str(status)] += 1
        self.latencies_ms[endpoint].append(seconds * 1000)
        if code:
            self.codes[f"{status} {code}"] += 1
            masked = re.sub(r"\d+", "N", re.sub(r"https?://\S+", "URL", message or ""))
            self.messages[f"{status} {code}"][masked[:160]] += 1

    def merge(self, other: CallLog) -> None:
        for endpoint, counts in other.statuses.items():
            self.statuses[endpoint].update(counts)
        for endpoint, values in other.latencies_ms.items():
            self.latencies_ms[endpoint].extend(values)
        self.codes.update(other.codes)
        for code, counts in other.messages.items():
            self.messages[code].update(counts)

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    def by_status(self) -> Counter:
        merged: Counter = Counter()
        for counts in self.statuses.values():
            merged.update(counts)
        return merged

    def server_errors(self) -> int:
        return sum(n for status, n in self.by_status().items() if status.isdigit() and int(status) >= 500)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (inclusive interpolation; the one value for one)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def table(log: CallLog) -> str:
    """Requests by endpoint and status, with p50/p95 latency (a stream: until its last event)."""
    rows = [("endpoint", "requests", "by status", "p50 ms", "p95 ms")]
    for endpoint in sorted(log.statuses):
        counts, values = log.statuses[endpoint], log.latencies_ms[endpoint]
        by_status = " ".join(f"{status}:{n}" for status, n in sorted(counts.items()))
        rows.append(
            (
                endpoint,
                str(sum(counts.values())),
                by_status,
                f"{percentile(values, 0.5):.0f}",
                f"{percentile(values, 0.95):.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
