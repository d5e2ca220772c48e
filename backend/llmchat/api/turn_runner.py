"""Runs a prepared chat turn: the model server's stream in, events out, the reply saved all along.

It runs inside a reply job (api/jobs.py), which writes the events to the job's log. Events: `start`
{conversation_id, user_message, message}, `delta` {content} many times, then `done` {conversation_id, message}
or `error` {error: {message, code, status}, conversation_id, message|null} (api/model_errors.py: the same code as
the failure would have had at open time). Every write of the reply goes through its status machine
(store/replies.py). After a first exchange the title is handed to api/titles.py, which writes it later, in the
background.

Nothing is lost, whatever happens:
- the reply's text is saved every `replies.save_interval_s`, so a killed API process leaves a `stopped` reply with
  that text (the store reports a `streaming` reply that is not saved for a while as stopped);
- Stop (`should_stop()` turns true: the job saw the flag) saves the reply as `stopped` and closes the model
  server's request, so it stops generating; a Stop sent before the job started is seen before any text;
- the conversation deleted meanwhile (the next save finds the row gone) ends the turn with an `error` event
  (`not_found`) and cancels the generation;
- the model server failing keeps the text so far (`error`), or, for a reply with no text yet, removes it.

The model server's stream is read on a helper thread into a queue, so this loop never blocks for long: it
notices a Stop within `POLL_S` even while the server is silent (queued, or prefilling a long prompt).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from llmchat.api.model_errors import WORKER_ERRORS, ConversationDeleted, error_event
from llmchat.api.routing import Router
from llmchat.api.serializers import message_json
from llmchat.api.titles import TitleWriter
from llmchat.api.tokens import count_quietly
from llmchat.api.turn import ChatTurn
from llmchat.modelclient import WorkerStream
from llmchat.prompts import StreamCutter
from llmchat.store import NotFound, UsageStore
from llmchat.store.replies import ReplyStore

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often the loop looks for a Stop, at the clock and at the queue
_END = object()

Event = tuple[str, dict[str, Any]]


@dataclass
class Outcome:
    status: str = "error"  # complete | stopped | error
    failure: BaseException | None = None
    deleted: bool = False


def _read_into(worker: WorkerStream, pieces: queue.Queue) -> None:
    try:
        for piece in worker.pieces():
            pieces.put(piece)
        pieces.put(_END)
    except BaseException as exc:
        pieces.put(exc)


class TurnRunner:
    def __init__(
        self, replies: ReplyStore, router: Router, titles: TitleWriter, usage: UsageStore, save_interval_s: float
    ):
        self.replies = replies
        self.router = router
        self.titles = titles
        self.usage = usage
        self.save_interval_s = save_interval_s

    def open(self, turn: ChatTurn) -> WorkerStream:
        """Send the request through the router (the next live server if the turn's cannot be reached). On failure
        the reply row and its job go (it has no text), the user message is marked `error`, and the failure is raised
        for the route to answer with."""
        path, payload = turn.prompt.endpoint, turn.payload()
        try:
            turn.endpoint, stream = self.router.call(
                turn.model, lambda endpoint: self.router.client.open_stream(endpoint, path, payload), turn.endpoint
            )
        except WORKER_ERRORS:
            self._settle_failed_start(turn, job_too=True)
            raise
        return stream

    def events(
        self, turn: ChatTurn, worker: WorkerStream, should_stop: Callable[[], bool] = lambda: False
    ) -> Iterator[Event]:
        start = {"conversation_id": turn.conversation_id, "message": message_json(turn.reply)}
        if turn.kind != "continue":
            start = {
                "conversation_id": turn.conversation_id,
                "user_message": message_json(turn.user_message),
                "message": start["message"],
            }
        cutter = StreamCutter(turn.prompt.stop, strip_leading=turn.kind != "continue")
        outcome = Outcome()
        pieces: queue.Queue = queue.Queue()
        reader = threading.Thread(target=_read_into, args=(worker, pieces), daemon=True, name=f"reply-{turn.reply.id}")
        reply = None
        try:
            yield "start", start
            reader.start()
            with self.router.using(turn.endpoint):
                yield from self._relay(turn, cutter, pieces, should_stop, outcome)
            if outcome.status == "complete":
                rest = cutter.finish()
                if rest:
                    yield "delta", {"content": rest}
        except GeneratorExit:
            outcome.status = "stopped"  # closed early (the process shuts down): the `finally` below still saves
            raise
        except ConversationDeleted as exc:
            outcome.failure, outcome.deleted = exc, True
        except Exception as exc:
            if not isinstance(exc, WORKER_ERRORS):
                log.exception("reply of conversation %s failed", turn.conversation_id)
            outcome.failure = exc
        finally:
            worker.abort()  # a no-op once the server finished; otherwise it stops generating now
            if outcome.failure is not None and not outcome.deleted:
                self.router.forget_health(turn.endpoint)
            reply = self._finish(turn, cutter, worker, outcome)
        if outcome.failure is None and reply is not None and outcome.status != "error":
            yield "done", {"conversation_id": turn.conversation_id, "message": message_json(reply)}
        else:
            yield (
                "error",
                {
                    **error_event(outcome.failure or RuntimeError("the reply could not be saved")),
                    "conversation_id": turn.conversation_id,
                    "message": message_json(reply) if reply else None,
                },
            )
        if reply is not None and reply.status == "complete" and turn.kind == "message":
            self.titles.after_first_exchange(turn, reply)

    def _relay(
        self,
        turn: ChatTurn,
        cutter: StreamCutter,
        pieces: queue.Queue,
        should_stop: Callable[[], bool],
        outcome: Outcome,
    ) -> Iterator[Event]:
        saved_at = time.monotonic()
        while True:
            if should_stop():  # looked at first: a Stop sent before the job started ends it before any text
                outcome.status = "stopped"
                return
            try:
                item = pieces.get(timeout=POLL_S)
            except queue.Empty:
                item = None
            if item is _END:
                outcome.status = "complete"
                return
            if isinstance(item, BaseException):
                raise item
            if item:
                text = cutter.feed(item)
                if text:
                    yield "delta", {"content": text}
                if cutter.stopped:  # a server that ignores `stop` babbles on: the cut ends the reply here
                    outcome.status = "complete"
                    return
            now = time.monotonic()
            if now - saved_at >= self.save_interval_s:
                # the periodic save is also the heartbeat that tells the store this stream is alive
                self._save_progress(turn, cutter.text)
                saved_at = now

    def _save_progress(self, turn: ChatTurn, text: str) -> None:
        try:
            self.replies.save_progress(turn.reply.id, turn.prefix + text)
        except NotFound as exc:
            raise ConversationDeleted() from exc

    # saving the outcome -------------------------------------------------------------------------
    def _finish(self, turn: ChatTurn, cutter: StreamCutter, worker: WorkerStream, outcome: Outcome):
        if outcome.deleted:
            return None
        try:
            return self._save_reply(turn, cutter, worker, outcome)
        except NotFound:
            outcome.failure, outcome.deleted, outcome.status = ConversationDeleted(), True, "error"
            return None
        except Exception as exc:
            log.exception("could not save the reply of conversation %s", turn.conversation_id)
            outcome.failure = outcome.failure or exc
            return None

    def _save_reply(self, turn: ChatTurn, cutter: StreamCutter, worker: WorkerStream, outcome: Outcome):
        status = "error" if outcome.failure is not None else outcome.status
        text = cutter.text
        state = worker.state
        if status == "error" and not text:
            return self._settle_failed_start(turn, job_too=False)  # the job stays: its last event says why
        finish_reason = None
        if status == "complete":
            finish_reason = "stop" if cutter.stopped else (state.finish_reason or "stop")
        completion = state.completion_tokens if status == "complete" else None
        if completion is None:
            completion = count_quietly(self.router.client, turn.endpoint, turn.model.id, text)
        self._record_usage(turn, state.prompt_tokens or turn.prompt_tokens, completion)
        earlier = turn.previous
        user_status = self._user_outcome(turn, "error" if status == "error" else "complete")
        reply, user = self.replies.finish(
            turn.reply.id,
            status,
            user_message_id=turn.user_message.id if turn.user_message is not None else None,
            user_status=user_status,
            content=turn.prefix + text,
            finish_reason=finish_reason,
            prompt_tokens=state.prompt_tokens or turn.prompt_tokens,
            completion_tokens=completion + ((earlier.completion_tokens or 0) if earlier else 0),
            response_time_ms=turn.elapsed_ms() + ((earlier.response_time_ms or 0) if earlier else 0),
        )
        if user is not None:
            turn.user_message = user
        return reply

    def _record_usage(self, turn: ChatTurn, prompt_tokens: int, completion_tokens: int) -> None:
        """This generation's tokens (a Continue's earlier ones were counted then); a failed count loses no reply."""
        try:
            self.usage.record(turn.owner, turn.model.id, prompt_tokens, completion_tokens)
        except Exception:
            log.exception("could not record the usage of conversation %s", turn.conversation_id)

    def _settle_failed_start(self, turn: ChatTurn, job_too: bool):
        """Nothing was written: a Continue's reply goes back to what it was; a new reply row is removed and its
        question, unanswered, becomes `error`."""
        if turn.previous is not None:
            return self.replies.restore(turn.previous, job_too=job_too)
        user = self.replies.discard(turn.reply.id, self._user_id_to_settle(turn), job_too=job_too)
        if user is not None:
            turn.user_message = user
        return None

    @staticmethod
    def _user_outcome(turn: ChatTurn, status: str) -> str | None:
        """The status a pending (or failed) user message takes from its reply; None: it stays as it is."""
        user = turn.user_message
        if user is None or turn.kind == "continue" or user.status == "complete" or user.status == status:
            return None
        return status

    @staticmethod
    def _user_id_to_settle(turn: ChatTurn) -> int | None:
        """The question a failed reply leaves unanswered (not a Continue's, which was answered before)."""
        if turn.user_message is None or turn.kind == "continue":
            return None
        return turn.user_message.id
