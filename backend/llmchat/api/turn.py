"""One chat turn: a generation from its request to its saved reply.

The route decides what to answer (a new message, a regenerate, a Continue), the turn builder makes the turn from
one read (model, params, prompt, server, rows), the runner streams it in a job; all share this object instead of
filling in a record each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from llmchat.api.routing import ModelInfo
from llmchat.modelclient import Endpoint
from llmchat.prompts import Prompt
from llmchat.store import MessageRecord

TurnKind = Literal["message", "regenerate", "continue"]


@dataclass
class ChatTurn:
    kind: TurnKind
    conversation_id: str
    model: ModelInfo
    params: dict[str, Any]
    prompt: Prompt
    prompt_tokens: int
    endpoint: Endpoint
    column: int = 0
    owner: str = ""  # the caller's identity: whose usage the reply's tokens are
    # the user message being answered (for a Continue: the one the reply answers)
    user_message: MessageRecord | None = None
    # the assistant row: saved `streaming` before the first word, so its id is known from the start
    reply: MessageRecord | None = None
    # the job of this generation, written with the reply row (store/replies.py): Stop reaches it from the start
    job_id: int | None = None
    # Continue: the reply as it was before (its text is the prefix the new text is appended to)
    previous: MessageRecord | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def prefix(self) -> str:
        return self.previous.content if self.previous is not None else ""

    def payload(self) -> dict[str, Any]:
        """The body of the model server request (OpenAI format)."""
        body: dict[str, Any] = {
            **self.model.extra_body,
            "model": self.model.id,
            "max_tokens": self.params["max_tokens"],
            "temperature": self.params["temperature"],
            "top_p": self.params["top_p"],
        }
        if self.prompt.messages is not None:
            body["messages"] = list(self.prompt.messages)
            body.update(self.prompt.chat_flags())
        else:
            body["prompt"] = self.prompt.text
        if self.prompt.stop:
            body["stop"] = list(self.prompt.stop)
        return body

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)
