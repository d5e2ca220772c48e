"""Following a reply's job from its event log, from any offset, in whichever API process the request lands on.

What a client gets is the job's events in order, each with its id (the SSE `id:` line, so a browser's
`Last-Event-ID` or `?after=` resumes exactly after the last one it saw). The follower ends after the job's last
event. Besides the log it says three things itself:
- `done` with the saved reply when there is no job to follow (the reply is finished and its events are gone, or it
  was written before jobs existed);
- `error` `not_found` when the conversation is deleted meanwhile (the job's rows go with it);
- for a job whose API process died (no heartbeat for `replies.stale_after_s`), the store settles the reply as
  `stopped` and the first follower to notice ends the job with a `done` carrying it (`interrupted`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from llmchat.api.jobs import ReplyJobs
from llmchat.api.model_errors import ConversationDeleted, error_event
from llmchat.api.serializers import message_json
from llmchat.store import ChatStore, MessageRecord
from llmchat.store.jobs import JobRecord, JobStore

PING_AFTER_S = 15.0  # an SSE comment after this long without an event keeps proxies awake

# (event id or None for what the follower says itself, event name, its JSON)
Followed = tuple[int | None, str, str]


def done_json(message: MessageRecord) -> str:
    return json.dumps({"conversation_id": message.conversation_id, "message": message_json(message)})


def deleted_json(conversation_id: str) -> str:
    error = error_event(ConversationDeleted())
    return json.dumps({**error, "conversation_id": conversation_id, "message": None})


class ReplyFollower:
    """`poll_s`: how often the database is looked at for the events of another process's job; a job of this
    process wakes its followers when it writes (`local`)."""

    def __init__(self, jobs: JobStore, store: ChatStore, poll_s: float, local: ReplyJobs):
        self.jobs = jobs
        self.store = store
        self.poll_s = poll_s
        self.local = local

    def follow(self, owner: str, reply: MessageRecord, after: int = 0) -> Iterator[Followed]:
        """The events of the reply's latest job after event id `after`, until the job's end; `ping` while quiet."""
        quiet_since = time.monotonic()
        while True:
            job = self.jobs.latest(reply.id)
            seen = self.local.flushes(job.id) if job is not None else None  # before reading: no write is missed
            if job is None:
                message = self.store.owned_message(owner, reply.id)
                if message is None:
                    yield None, "error", deleted_json(reply.conversation_id)
                    return
                if message.status != "streaming":
                    yield None, "done", done_json(message)
                    return
                # streaming without a job: a reply written before jobs were (a job is written with the reply now)
            else:
                events = self.jobs.events_after(job.id, after)
                for event in events:
                    after = event.id
                    yield event.id, event.name, event.data
                if events:
                    quiet_since = time.monotonic()
                    continue
                if job.state != "running":
                    return
                if self.jobs.is_dead(job):
                    self._interrupt(owner, job)
            if time.monotonic() - quiet_since >= PING_AFTER_S:
                yield None, "ping", "{}"
                quiet_since = time.monotonic()
            if job is None:
                time.sleep(self.poll_s)
            else:
                self.local.wait(job.id, seen, self.poll_s)

    def _interrupt(self, owner: str, job: JobRecord) -> None:
        """The job's process died: reading the reply settles it (`stopped`, its text kept: the store's stale
        rule); the job ends with it. A reply saved more recently than its job's heartbeat is waited for."""
        message = self.store.owned_message(owner, job.message_id)
        if message is not None and message.status != "streaming":
            self.jobs.interrupt(job.id, [("done", done_json(message))])


def past_shown(events: Iterator[Followed], shown: int) -> Iterator[Followed]:
    """The events of a reply whose first `shown` characters (code points) a page shows already, for example the
    saved text it read after a reload: the deltas within them are left out and the one that reaches past them is
    cut, so the page only appends. The `start` event comes without its id (the page's text is further on than it)
    and the cut delta with its own: from there on an event id matches the page's text, for `Last-Event-ID`."""
    written = 0
    for event_id, name, data in events:
        if written >= shown or name not in ("start", "delta"):
            yield event_id, name, data
        elif name == "start":
            written = len(json.loads(data)["message"]["content"])
            yield None, name, data
        else:
            text = json.loads(data)["content"]
            written += len(text)
            if written >= shown:  # this delta reaches the page's end (or past it): the rest of it is new
                yield event_id, name, json.dumps({"content": text[len(text) - (written - shown) :]})


def sse_frames(events: Iterator[Followed]) -> Iterator[str]:
    """SSE text: `id:` (when the event is from the log), `event:`, `data:`; pings as comments."""
    for event_id, name, data in events:
        if name == "ping":
            yield ": ping\n\n"
        elif event_id is None:
            yield f"event: {name}\ndata: {data}\n\n"
        else:
            yield f"id: {event_id}\nevent: {name}\ndata: {data}\n\n"


def collect(events: Iterator[Followed]) -> dict[str, dict]:
    """The last event of each kind (deltas and pings skipped): what a non-streamed request answers with."""
    last: dict[str, dict] = {}
    for _event_id, name, data in events:
        if name not in ("delta", "ping"):
            last[name] = json.loads(data)
    return last
