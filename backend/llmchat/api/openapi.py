"""The OpenAPI 3.1 document of the chat API, generated from the pydantic models it validates and answers with.

Request bodies come from the app's own request models (api/schemas.py: limits included, unknown keys refused),
responses from api/documents.py; only the paths table below is written by hand (a test checks it lists every
/api route, and schemathesis checks every real answer against it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from llmchat import __version__ as VERSION
from llmchat.api import documents, openapi_studio, openapi_teams, runs_schemas, studio_schemas
from llmchat.api.schemas import MAX_QUERY_CHARS, MAX_SEARCH_RESULTS, RequestSchemas

REF = "#/components/schemas/{model}"
SSE_NOTE = (
    "the reply as JSON, or with stream: true an SSE stream of events start, delta..., then done or "
    "error; each event has an id (GET /api/messages/{message_id}/stream resumes after it). The reply is a job of "
    "the server: a client that goes away does not stop it"
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel] | dict[str, Any], description: str = "OK") -> dict[str, Any]:
    schema = model if isinstance(model, dict) else _ref(model)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "invalid request (not_enough_models: a blind session needs two served models)",
        404: "not found (or not this identity's)",
        405: "method not allowed",
        409: "busy: the reply is being generated",
        413: "too large",
        415: "the body is not JSON",
        429: "rate limited (Retry-After)",
        502: "the model server refused",
        503: "no model server, or the API is at capacity (Retry-After)",
    }
    return {str(status): _json(documents.Error, reasons[status]) for status in statuses}


def _body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(model)}}}


def _sse_event_schema() -> dict[str, Any]:
    """One SSE event: its name and its `data`, a JSON document whose schema depends on the name. (Lines starting
    with `:` are keep-alive comments, not events.)"""
    return {
        "oneOf": [
            {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"const": name},
                    "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": _ref(model)},
                },
            }
            for name, model in documents.SSE_EVENTS.items()
        ]
    }


def _generating(result: type[BaseModel]) -> dict[str, Any]:
    return {
        "200": {
            "description": SSE_NOTE,
            "content": {
                "application/json": {"schema": _ref(result)},
                "text/event-stream": {"schema": _sse_event_schema()},
            },
        },
        **_errors(400, 404, 409, 413, 415, 429, 502, 503),
    }


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


CONVERSATION_ID = _path_param("conversation_id", {"type": "string", "maxLength": 64})
MODEL_ID = _path_param("model_id", {"type": "string", "minLength": 1, "maxLength": 200})
MESSAGE_ID = _path_param("message_id", {"type": "integer", "minimum": 0})


def _paths(requests: RequestSchemas) -> dict[str, Any]:
    return {
        "/api/health": {
            "get": {"summary": "API, database and model servers' state", "responses": {"200": _json(documents.Health)}}
        },
        "/api/models": {
            "get": {
                "summary": "models the servers offer, with prompt style and default params",
                "responses": {"200": _json(documents.ModelList), **_errors(503)},
            }
        },
        "/api/models/{model_id}/card": {
            "parameters": [MODEL_ID],
            "get": {
                "summary": "what a model is (kind, base, prompt style, engine) and, for a fine-tuning run, its "
                "recipe, loss curve and last evaluation, from the model's server",
                "responses": {"200": _json(documents.ModelCard), **_errors(404, 503)},
            },
        },
        "/api/limits": {
            "get": {
                "summary": "the bounds of the generation parameters and of a message",
                "responses": {"200": _json(documents.Limits)},
            }
        },
        "/api/openapi.json": {"get": {"summary": "this document", "responses": {"200": _json({"type": "object"})}}},
        "/api/chat": {
            "post": {
                "summary": "send a message (after the branch on screen, or under parent_id: an edit); the reply as "
                "JSON or SSE",
                "requestBody": _body(requests.chat),
                "responses": _generating(documents.ChatResult),
            }
        },
        "/api/conversations": {
            "get": {
                "summary": "the caller's conversations, most recently active first",
                "responses": {"200": _json(documents.ConversationList)},
            },
            "post": {
                "summary": "a new, empty conversation; kind compare names its two models [left, right], or "
                "with blind: true has two drawn at random, hidden until the first vote",
                "requestBody": _body(requests.create_conversation),
                "responses": {"201": _json(documents.Conversation, "created"), **_errors(400, 413, 415, 503)},
            },
        },
        "/api/conversations/{conversation_id}": {
            "parameters": [CONVERSATION_ID],
            "get": {
                "summary": "the conversation with its branch on screen (compare: both columns)",
                "responses": {"200": _json(documents.Conversation), **_errors(404)},
            },
            "patch": {
                "summary": "rename",
                "requestBody": _body(requests.rename),
                "responses": {"200": _json(documents.ConversationSummary), **_errors(400, 404, 413, 415)},
            },
            "delete": {
                "summary": "delete with all its messages; a reply being written ends with an error event",
                "responses": {"204": {"description": "deleted"}, **_errors(404)},
            },
        },
        "/api/conversations/{conversation_id}/current": {
            "parameters": [CONVERSATION_ID],
            "put": {
                "summary": "show another version: the branch on screen goes through message_id, down to the "
                "newest leaf under it",
                "requestBody": _body(requests.set_current),
                "responses": {"200": _json(documents.Conversation), **_errors(400, 404, 413, 415)},
            },
        },
        "/api/conversations/{conversation_id}/export": {
            "parameters": [
                CONVERSATION_ID,
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["markdown", "json"], "default": "markdown"},
                },
            ],
            "get": {
                "summary": "every message (all versions; the branch on screen marked) as a Markdown or JSON attachment "
                "named after the title",
                "responses": {
                    "200": {
                        "description": "attachment (Content-Disposition)",
                        "content": {
                            "text/markdown": {"schema": {"type": "string"}},
                            "application/json": {"schema": _ref(documents.ConversationExport)},
                        },
                    },
                    **_errors(400, 404),
                },
            },
        },
        "/api/conversations/{conversation_id}/regenerate": {
            "parameters": [CONVERSATION_ID],
            "post": {
                "summary": "a new version of the reply to a user message (default: the last one on screen); "
                "earlier versions stay",
                "requestBody": _body(requests.regenerate, required=False),
                "responses": _generating(documents.ChatResult),
            },
        },
        "/api/messages/{message_id}/continue": {
            "parameters": [MESSAGE_ID],
            "post": {
                "summary": "extend a reply that was cut off at max_tokens or stopped (the same message)",
                "requestBody": _body(requests.continue_, required=False),
                "responses": _generating(documents.ContinueResult),
            },
        },
        "/api/messages/{message_id}/stream": {
            "parameters": [
                MESSAGE_ID,
                {
                    "name": "after",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "the last event id seen (or the Last-Event-ID header)",
                },
                {
                    "name": "shown",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "instead of an event id: the characters (code points) of the reply's text the "
                    "client shows already (its saved text after a reload); the deltas within them are left out, the "
                    "one reaching past them cut, and `start` comes without an id",
                },
            ],
            "get": {
                "summary": "follow a reply: its events after an offset as SSE, until it ends (a finished reply: one "
                "done); from any API process on the same database",
                "responses": {
                    "200": {"description": "SSE", "content": {"text/event-stream": {"schema": _sse_event_schema()}}},
                    **_errors(400, 404),
                },
            },
        },
        "/api/messages/{message_id}/stop": {
            "parameters": [MESSAGE_ID],
            "post": {
                "summary": "stop a reply being generated (whichever API process runs it); a finished one is "
                "answered as it is",
                "responses": {
                    "200": _json(documents.StopResult, "stopped (or already finished)"),
                    "202": _json(documents.StopResult, "asked to stop; its stream ends with done"),
                    **_errors(400, 404),
                },
            },
        },
        "/api/messages/{message_id}/feedback": {
            "parameters": [MESSAGE_ID],
            "put": {
                "summary": "a thumb up/down and/or a better answer for one of the caller's replies; rating null "
                "without a correction clears it",
                "requestBody": _body(requests.feedback),
                "responses": {"200": _json(documents.Message), **_errors(400, 404, 413, 415)},
            },
        },
        "/api/votes": {
            "post": {
                "summary": "which of two of the caller's finished replies to the same prompt is better; voting again on "
                "the same pair replaces the vote (200); the first vote reveals a blind session",
                "requestBody": _body(requests.vote),
                "responses": {
                    "201": _json(documents.VoteResult, "created"),
                    "200": _json(documents.VoteResult, "replaced"),
                    **_errors(400, 404, 413, 415),
                },
            }
        },
        "/api/leaderboard": {
            "get": {
                "summary": "per model: Bradley-Terry rating with a 95% bootstrap interval, battles, win rate, thumbs "
                "(everyone's votes; no prompts or replies)",
                "responses": {"200": _json(documents.Leaderboard)},
            }
        },
        "/api/search": {
            "get": {
                "summary": "full-text search over the caller's messages, best first, with plain-text snippets",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_RESULTS, "default": 20},
                    },
                ],
                "responses": {"200": _json(documents.SearchResults), **_errors(400)},
            }
        },
    }


def component_schemas(requests: RequestSchemas) -> dict[str, Any]:
    models = [
        (model, "validation")
        for model in [*requests.all(), *openapi_teams.REQUESTS, *studio_schemas.REQUESTS, *runs_schemas.REQUESTS]
    ]
    models += [
        (model, "serialization")
        for model in [
            *documents.RESPONSES,
            *openapi_teams.RESPONSES,
            *studio_schemas.RESPONSES,
            *runs_schemas.RESPONSES,
        ]
    ]
    _, top = models_json_schema(models, ref_template=REF)
    return top["$defs"]


def openapi_document(requests: RequestSchemas) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "llmchat chat API",
            "version": VERSION,
            "description": "Conversations are scoped to the caller's identity (ip, header or accounts mode); errors are "
            '{"error": {"message", "code", "field"?}}.',
        },
        "paths": {
            **_paths(requests),
            **openapi_teams.team_paths(),
            **openapi_studio.studio_paths(),
            **runs_schemas.run_paths(),
        },
        "components": {"schemas": component_schemas(requests)},
    }
