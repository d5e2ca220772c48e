"""A reply is a server-side job: it runs on a thread of the API process, apart from the request that started it.

The request prepares the turn and opens the model server's stream (so a refusal is still its HTTP answer), then
hands both to a job and follows the job's event log like any other client (api/reply_stream.py). Leaving the page,
reloading it or losing the connection ends only that following; the job goes on until the model ends, Stop
(`POST /api/messages/{id}/stop`, a flag in the database that the job reads at every flush) or an error.

The job writes its events (the turn runner's: start, delta..., done | error, title) to the database every
`replies.event_flush_s`, consecutive deltas as one; each write is also its heartbeat. The generation slot taken by
the request (api/limits.py) is held until the job ends.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from llmchat.api.turn import ChatTurn
from llmchat.api.turn_runner import TurnRunner
from llmchat.modelclient import WorkerStream
from llmchat.store import NotFound
from llmchat.store.jobs import JobStore

log = logging.getLogger(__name__)
# a job with nothing to write still says it is alive this often (well below replies.stale_after_s)
HEARTBEAT_S = 1.0


class EventLog:
    """One job's writes: events buffered and appended every `flush_s` (a non-delta event at once), consecutive
    deltas as one. Remembers whether Stop was asked for and whether the job's rows are gone (conversation
    deleted)."""

    def __init__(self, jobs: JobStore, job_id: int, message_id: int, flush_s: float):
        self.jobs = jobs
        self.job_id = job_id
        self.message_id = message_id
        self.flush_s = flush_s
        self.pending: list[list[Any]] = []  # [name, data]
        self.flushed_at = time.monotonic()
        self.stop_requested = False
        self.gone = False
        # followers in this process wait on this instead of polling the database (they poll for other processes')
        self.flushes = 0
        self.flushed = threading.Condition()

    def add(self, name: str, data: dict[str, Any]) -> None:
        if name == "delta" and self.pending and self.pending[-1][0] == "delta":
            self.pending[-1][1] = {"content": self.pending[-1][1]["content"] + data["content"]}
        else:
            self.pending.append([name, data])
        if name != "delta":
            self.flush()
        else:
            self.tick()

    def tick(self) -> None:
        """Flush the events waiting once `flush_s` has passed; with none, every HEARTBEAT_S all the same (the
        heartbeat, and a look at the Stop flag, while the model server is silent)."""
        waited = time.monotonic() - self.flushed_at
        if waited >= HEARTBEAT_S or (self.pending and waited >= self.flush_s):
            self.flush()

    def flush(self, final_state: str | None = None) -> None:
        if self.gone:
            self.pending.clear()
            return
        events = [(name, json.dumps(data, ensure_ascii=False)) for name, data in self.pending]
        self.pending.clear()
        self.flushed_at = time.monotonic()
        try:
            self.stop_requested = self.jobs.append(self.job_id, events, final_state) or self.stop_requested
        except NotFound:
            self.gone = True
        with self.flushed:
            self.flushes += 1
            self.flushed.notify_all()


class ReplyJobs:
    """Starts jobs, asks them to stop (any process's, through the store), and stops this process's on close."""

    def __init__(self, jobs: JobStore, runner: TurnRunner, flush_s: float):
        self.store = jobs
        self.runner = runner
        self.flush_s = flush_s
        self._running: dict[threading.Thread, EventLog] = {}
        self._lock = threading.Lock()

    def start(self, turn: ChatTurn, worker: WorkerStream, release: Callable[[], None]) -> int:
        """Run the turn's generation in its job (written with the reply's row, store/replies.py); `release` (the
        generation slot) is called when it ends. A Stop asked for before now is read at the job's first write (its
        `start` event), so it is honoured before any text. Returns the job's id."""
        job_id = turn.job_id
        event_log = EventLog(self.store, job_id, turn.reply.id, self.flush_s)
        thread = threading.Thread(
            target=self._run, args=(turn, worker, event_log, release), daemon=True, name=f"reply-job-{job_id}"
        )
        with self._lock:
            self._running[thread] = event_log
        thread.start()
        return job_id

    def stop(self, message_id: int) -> bool:
        """Ask the reply's running job (in any API process) to stop; False when none runs. A job of this process
        is told at once; another process's reads the flag at its next write, and one that has not started yet (its
        request is still opening the model server's stream) at its first."""
        with self._lock:
            local = [event_log for event_log in self._running.values() if event_log.message_id == message_id]
        for event_log in local:
            event_log.stop_requested = True
        return self.store.request_stop(message_id) or bool(local)

    def flushes(self, job_id: int) -> int | None:
        """How many times a job of this process has written (None: not one of this process's)."""
        event_log = self._local(job_id)
        return event_log.flushes if event_log is not None else None

    def wait(self, job_id: int, seen: int | None, timeout: float) -> None:
        """Until a job of this process writes again after `seen` writes, or `timeout` (another process's job: the
        database is looked at again after `timeout`)."""
        event_log = self._local(job_id)
        if event_log is None or seen is None:
            time.sleep(timeout)
            return
        with event_log.flushed:
            event_log.flushed.wait_for(lambda: event_log.flushes != seen, timeout)

    def _local(self, job_id: int) -> EventLog | None:
        with self._lock:
            return next((e for e in self._running.values() if e.job_id == job_id), None)

    def close(self, timeout: float = 10.0) -> None:
        """Stop this process's jobs and wait for them to save their replies (the app is shutting down)."""
        with self._lock:
            running = dict(self._running)
        for event_log in running.values():
            event_log.stop_requested = True
        deadline = time.monotonic() + timeout
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, turn: ChatTurn, worker: WorkerStream, events: EventLog, release: Callable[[], None]) -> None:
        def should_stop() -> bool:
            events.tick()
            return events.stop_requested or events.gone

        try:
            with closing(self.runner.events(turn, worker, should_stop)) as generated:
                for name, data in generated:
                    events.add(name, data)
            events.flush(final_state="finished")
        except Exception:
            # the database failed us: the job's heartbeat stops, and a follower settles it as interrupted
            log.exception("the job of reply %s failed", turn.reply.id)
        finally:
            release()
            with self._lock:
                self._running.pop(threading.current_thread(), None)
