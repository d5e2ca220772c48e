"""A conversation's title, written by the model after the first exchange (config `titles`).

One small extra generation in the model's own prompt style; if it fails or says nothing usable, the title stays
the first line of the first message. A title the user set is never replaced.
"""

from __future__ import annotations

import logging
import re

from llmchat.api.chat_service import WORKER_ERRORS, ChatService
from llmchat.api.errors import ApiError
from llmchat.api.serializers import shorten_title
from llmchat.api.turn import ChatTurn
from llmchat.prompts import clean_reply
from llmchat.store import MessageRecord

log = logging.getLogger(__name__)

_LABEL = re.compile(r"^\s*(title|subject|topic)\s*[:\-–]\s*", re.IGNORECASE)
_EDGES = "\"'“”‘’`*#_ .:;,-–"


def clean_title(text: str, limit: int) -> str:
    """The first non-empty line, without a "Title:" label, quotes or markdown marks, shortened to `limit`."""
    line = next((line for line in text.splitlines() if line.strip(_EDGES)), "")
    line = _LABEL.sub("", line).strip(_EDGES)
    return shorten_title(line, limit) if line else ""


class TitleWriter:
    def __init__(self, service: ChatService):
        self.service = service
        self.settings = service.config.titles

    def after_first_exchange(self, turn: ChatTurn, reply: MessageRecord) -> str | None:
        """The new title, when this was the conversation's first complete exchange and the model wrote one."""
        if not self.settings.generate or turn.user_message is None:
            return None
        if not self.service.store.claim_title(turn.conversation_id):
            return None  # titled already (by the model, the user, or before titles existed)
        try:
            title = self._generate(turn, reply)
        except (*WORKER_ERRORS, ApiError) as exc:
            log.info("no title for conversation %s: %s", turn.conversation_id, exc)
            return None
        if not title:
            return None
        record = self.service.store.set_model_title(turn.conversation_id, title)
        return title if record is not None and record.title == title else None

    def _generate(self, turn: ChatTurn, reply: MessageRecord) -> str:
        model = turn.model
        if self.settings.model and self.settings.model != model.id:
            model = self.service.resolve_model(self.settings.model, field="titles.model")
        prompt = self.service.prompts.title_prompt(model.prompt_style, turn.user_message.content, reply.content)
        body = {
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
        router = self.service.router
        endpoint = router.pick(model)
        with router.using(endpoint):
            result = router.client.complete(endpoint, prompt.endpoint, body)
        return clean_title(clean_reply(result.text, prompt.stop), self.service.config.title_max_chars)
