"""Request bodies of the sign-in, key, admin and OpenAI routes, validated with pydantic (a failure names the field).

The OpenAI body is checked only where the chat server decides something (the model, the messages, the stream
flag, max_tokens against `limits.max_tokens`); every other field goes to the model server as sent.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmchat.api.schemas import STRICT, ModelId, Text
from llmchat.store.accounts import MAX_PASSWORD_CHARS, ROLES, STATUSES
from llmchat.store.keys import MAX_NAME_CHARS

Name = Annotated[Text, Field(min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_CHARS)]


class SignInRequest(BaseModel):
    model_config = STRICT
    name: Name
    password: Password


class PasswordChange(BaseModel):
    model_config = STRICT
    current_password: Password
    new_password: Password


class NewKey(BaseModel):
    model_config = STRICT
    name: Annotated[Text, Field(min_length=1, max_length=MAX_NAME_CHARS)]


class UserUpdate(BaseModel):
    model_config = STRICT
    role: Literal[ROLES] | None = None  # type: ignore[valid-type]
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Annotated[str, Field(min_length=1, max_length=32)]
    content: Any = None


class OpenAIChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: ModelId
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    stream: bool = False
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
