"""The OpenAPI paths and answer models of who-you-are, accounts, API keys, usage and admin routes (merged into
api/openapi.py's document; the same test and schemathesis run check them). /v1 is OpenAI's API, documented there."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from llmchat.api import documents
from llmchat.api.team_schemas import NewKey, PasswordChange, SignInRequest, UserUpdate
from llmchat.store.accounts import ROLES, STATUSES

Role = Literal[ROLES]  # type: ignore[valid-type]
AccountStatus = Literal[STATUSES]  # type: ignore[valid-type]


class Me(BaseModel):
    identity: str | None
    name: str | None
    admin: bool
    mode: Literal["ip", "header", "accounts"]
    signup: Literal["closed", "open", "approval"]


class SignedIn(BaseModel):
    identity: str
    name: str
    admin: bool
    status: AccountStatus


class Key(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class NewKeyResult(Key):
    key: str


class KeyList(BaseModel):
    keys: list[Key]


class UsageRow(BaseModel):
    day: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


class Today(BaseModel):
    tokens: int
    tokens_per_day: int | None
    resets_at: datetime


class MyUsage(BaseModel):
    identity: str
    usage: list[UsageRow]
    today: Today


class IdentityUsageRow(UsageRow):
    identity: str


class UsageTotal(BaseModel):
    identity: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


class ModelResidency(BaseModel):
    """The model server's answer to a load or unload (llmchat's worker)."""

    id: str
    loaded: bool
    models: list[str] | None = None  # load: every model id the loaded engine serves
    unloaded: list[str] | None = None  # unload: every model id that went with it ([] when it was not loaded)


class EveryonesUsage(BaseModel):
    usage: list[IdentityUsageRow]
    totals: list[UsageTotal]


class User(BaseModel):
    name: str
    identity: str
    role: Role
    status: AccountStatus
    created_at: datetime


class UserList(BaseModel):
    users: list[User]


REQUESTS: list[type[BaseModel]] = [SignInRequest, PasswordChange, NewKey, UserUpdate]
RESPONSES: list[type[BaseModel]] = [
    Me,
    SignedIn,
    Key,
    NewKeyResult,
    KeyList,
    MyUsage,
    EveryonesUsage,
    User,
    UserList,
    ModelResidency,
]

DAYS = {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30}}
REASONS = {
    400: "invalid request (the field is named)",
    401: "not signed in, or a wrong password or API key",
    403: "not allowed (admins only; sign-up closed; an account not active; a request from another site)",
    404: "not found (or not this identity's; or no local accounts in this identity mode)",
    413: "too large",
    415: "the body is not JSON",
    409: "the model has requests in progress",
    429: "too many attempts (Retry-After)",
    502: "the model server answered with an error",
    503: "no model server reachable, or the model still loading (Retry-After)",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(documents.Error, REASONS[status]) for status in statuses}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def _auth(summary: str, ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": _body(SignInRequest),
            "responses": {**ok, **_errors(400, 401, 403, 404, 413, 415, 429)},
        }
    }


def team_paths() -> dict[str, Any]:
    return {
        "/api/me": {
            "get": {"summary": "who the caller is here, and how one signs in", "responses": {"200": _json(Me)}}
        },
        "/api/auth/signup": _auth(
            "a new local account (accounts.signup open or approval); the first is an admin",
            {"201": _json(SignedIn, "created and signed in"), "202": _json(SignedIn, "created, waits for approval")},
        ),
        "/api/auth/signin": _auth("sign in: sets the session cookie", {"200": _json(SignedIn)}),
        "/api/auth/signout": {
            "post": {
                "summary": "end this sign-in on the server",
                "responses": {"204": {"description": "signed out"}, **_errors(404, 429)},
            }
        },
        "/api/auth/password": {
            "post": {
                "summary": "change the password; every other sign-in of the account ends",
                "requestBody": _body(PasswordChange),
                "responses": {"200": _json(SignedIn), **_errors(400, 401, 403, 404, 413, 415, 429)},
            }
        },
        "/api/keys": {
            "get": {"summary": "the caller's API keys (prefix only)", "responses": {"200": _json(KeyList)}},
            "post": {
                "summary": "a new API key: the key is in this answer only",
                "requestBody": _body(NewKey),
                "responses": {"201": _json(NewKeyResult, "created"), **_errors(400, 413, 415)},
            },
        },
        "/api/keys/{key_id}": {
            "parameters": [
                {"name": "key_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
            ],
            "delete": {
                "summary": "revoke one of the caller's keys",
                "responses": {"204": {"description": "revoked"}, **_errors(404)},
            },
        },
        "/api/usage": {
            "get": {
                "summary": "the caller's requests and tokens per model and UTC day, and today's quota",
                "parameters": [DAYS],
                "responses": {"200": _json(MyUsage), **_errors(400)},
            }
        },
        "/api/admin/usage": {
            "get": {
                "summary": "everyone's usage per identity, model and day, and totals per identity (admins)",
                "parameters": [DAYS],
                "responses": {"200": _json(EveryonesUsage), **_errors(400, 403)},
            }
        },
        "/api/admin/users": {
            "get": {
                "summary": "the local accounts (admins)",
                "responses": {"200": _json(UserList), **_errors(403, 404)},
            }
        },
        **{
            f"/api/admin/models/{{model_id}}/{action}": {
                "parameters": [{"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "post": {
                    "summary": f"{action} a model on its server now (admins; unload: 409 while it has requests)",
                    "responses": {"200": _json(ModelResidency), **_errors(400, 403, 404, 409, 502, 503)},
                },
            }
            for action in ("load", "unload")
        },
        "/api/admin/users/{name}": {
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "patch": {
                "summary": "approve, disable or make admin (admins)",
                "requestBody": _body(UserUpdate),
                "responses": {"200": _json(User), **_errors(400, 403, 404, 413, 415)},
            },
        },
    }
