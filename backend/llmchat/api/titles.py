"""A conversation's title (config `titles`).

Every conversation is titled at once with its first message's first line (turn_builder). With `titles.source:
model` a model then writes a short title from the first exchange, after the reply and only while its model server
is idle: the title is one more generation on the same cores as the user's next message (on 2 CPU cores, run right
after the reply, it pushed that message's first token from ~0.2 s to 1.9 s). So it waits on a background thread
until the server has nothing queued or running and this API process has nothing in flight there, and it gives way
(its request is aborted, to be tried again at the next idle moment) as soon as this process sends that server
another request. After `titles.idle_wait_s` without an idle moment, or when the model's answer is no usable title,
the first line stays. A title the user set is never replaced.

While a title is being written the conversation's summary says `title_pending`; the web app reads the list again
until it is settled.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from llmchat.api.config import AppConfig
from llmchat.api.errors import ApiError
from llmchat.api.model_errors import WORKER_ERRORS
from llmchat.api.routing import ModelInfo, Router
from llmchat.api.serializers import shorten_title
from llmchat.api.turn import ChatTurn
from llmchat.modelclient import Endpoint
from llmchat.prompts import PromptBuilder, clean_reply
from llmchat.store import ChatStore, MessageRecord

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.5  # how often a waiting title looks at its model server again
_LABEL = re.compile(r"^\s*(title|subject|topic)\s*[:\-–]\s*", re.IGNORECASE)
# a small model asked for a title often talks about one ("The correct title would be ...", "Here is a title"):
# a line that still names the task after the label is cut is an answer about titling, not a title
_ABOUT_TITLES = re.compile(r"\b(title|titled|titles)\b", re.IGNORECASE)
_EDGES = "\"'“”‘’`*#_ .:;,-–"


def clean_title(text: str, limit: int) -> str:
    """The first non-empty line, without a "Title:" label, quotes or markdown marks, shortened to `limit`; "" for
    no usable title (nothing left, or a line about titles instead of one)."""
    line = next((line for line in text.splitlines() if line.strip(_EDGES)), "")
    line = _LABEL.sub("", line).strip(_EDGES)
    if not line or _ABOUT_TITLES.search(line):
        return ""
    return shorten_title(line, limit)


def server_idle(health: dict[str, Any]) -> bool:
    """Nothing queued and nothing generating (a server that does not say counts as idle)."""
    return int(health.get("queue_depth") or 0) == 0 and int(health.get("active") or 0) == 0


@dataclass(frozen=True)
class TitleJob:
    conversation_id: str
    model: ModelInfo
    message: str
    reply: str
    queued_at: float = field(default_factory=time.monotonic)


class TitleWriter:
    """Owns one background thread (started on the first job) that writes queued titles one at a time."""

    def __init__(
        self, config: AppConfig, store: ChatStore, router: Router, prompts: PromptBuilder, clock=time.monotonic
    ):
        self.store = store
        self.router = router
        self.prompts = prompts
        self.settings = config.titles
        self.max_chars = config.title_max_chars
        self._clock = clock
        self._jobs: queue.Queue[TitleJob | None] = queue.Queue()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def after_first_exchange(self, turn: ChatTurn, reply: MessageRecord) -> bool:
        """Queue a model-written title when this was the conversation's first complete exchange (True when queued).
        Returns at once: the title is written later, when the model server is idle."""
        if self.settings.source != "model" or turn.user_message is None or self._closed.is_set():
            return False
        if not self.store.claim_title(turn.conversation_id):
            return False  # titled already (by the model, the user, or before titles existed)
        self._start()
        self._jobs.put(TitleJob(turn.conversation_id, turn.model, turn.user_message.content, reply.content))
        return True

    def close(self) -> None:
        """Stop the thread (a title being waited for keeps its first line)."""
        self._closed.set()
        self._jobs.put(None)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="titles")
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            title = ""
            try:
                if not self._closed.is_set():
                    title = self._write(job)
            except (*WORKER_ERRORS, ApiError) as exc:
                log.info("no title for conversation %s: %s", job.conversation_id, exc)
            except Exception:
                log.exception("the title of conversation %s failed", job.conversation_id)
            finally:
                self._settle(job, title)

    def _settle(self, job: TitleJob, title: str) -> None:
        try:
            self.store.finish_title(job.conversation_id, title or None)
        except Exception:
            log.exception("could not save the title of conversation %s", job.conversation_id)

    # writing one title ---------------------------------------------------------------------------
    def _write(self, job: TitleJob) -> str:
        model = job.model
        if self.settings.model and self.settings.model != model.id:
            model = self.router.model(self.settings.model, field="titles.model")
        prompt = self.prompts.title_prompt(model.prompt_style, job.message, job.reply)
        body: dict[str, Any] = {
            **model.extra_body,
            "model": model.id,
            "max_tokens": self.settings.max_tokens,
            "temperature": 0.0,
            "top_p": 1.0,
        }
        if prompt.messages is not None:
            body["messages"] = list(prompt.messages)
        else:
            body["prompt"] = prompt.text
        if prompt.stop:
            body["stop"] = list(prompt.stop)
        deadline = job.queued_at + self.settings.idle_wait_s
        while not self._closed.is_set() and self._clock() < deadline:
            endpoint = self._idle_endpoint(model)
            text = self._generate(endpoint, prompt.endpoint, body) if endpoint is not None else None
            if text is not None:
                return clean_title(clean_reply(text, prompt.stop), self.max_chars)
            self._closed.wait(IDLE_POLL_S)
        log.info("no idle moment for the title of conversation %s: its first line stays", job.conversation_id)
        return ""

    def _idle_endpoint(self, model: ModelInfo) -> Endpoint | None:
        router = self.router
        for endpoint in model.endpoints:
            if router.in_flight(endpoint):
                continue
            health = router.health(endpoint, fresh=True)
            if health is not None and server_idle(health):
                return endpoint
        return None

    def _generate(self, endpoint: Endpoint, path: str, body: dict[str, Any]) -> str | None:
        """The title's text, or None when another request reached the server meanwhile (it gave way)."""
        router = self.router
        with router.using(endpoint):
            stream = router.client.open_stream(endpoint, path, body)
            try:
                text = ""
                for piece in stream.pieces():
                    if router.in_flight(endpoint) > 1 or self._closed.is_set():
                        return None  # someone's message went to this server: it must not wait for a title
                    text += piece
                return text
            finally:
                stream.abort()
