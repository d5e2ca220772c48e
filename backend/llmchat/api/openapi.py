"""OpenAPI 3 description of the chat API (hand-written; a test checks it lists every /api route)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from llmchat import __version__ as VERSION


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(_ref("Error"), "error")
CONVERSATION_ID = {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "string"}}
CHAT_RESULT = {
    "200": {
        "description": "the reply (JSON), or with stream: true an SSE stream of start, delta, done | error events",
        "content": {"application/json": {"schema": _ref("ChatResult")},
                    "text/event-stream": {"schema": {"type": "string"}}},
    },
    "400": ERROR, "404": ERROR, "413": ERROR, "429": ERROR, "503": ERROR,
}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "message": {"type": "string"}, "code": {"type": "string"}, "field": {"type": "string"}},
        "required": ["message", "code"]}}},
    "Params": {"type": "object", "additionalProperties": False, "properties": {
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "max_tokens": {"type": "integer", "minimum": 1},
        "memory_window": {"type": "integer", "minimum": 0, "description": "turns of history sent"},
        "system_prompt": {"type": "string"}}},
    "Message": {"type": "object", "properties": {
        "id": {"type": "integer"}, "role": {"type": "string", "enum": ["user", "assistant"]},
        "content": {"type": "string"}, "model": {"type": "string", "nullable": True},
        "status": {"type": "string", "enum": ["complete", "error", "stopped"]}, "params": _ref("Params"),
        "usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer", "nullable": True},
                                                   "completion_tokens": {"type": "integer", "nullable": True}}},
        "response_time_ms": {"type": "integer", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"}}},
    "ConversationSummary": {"type": "object", "properties": {
        "id": {"type": "string"}, "title": {"type": "string"}, "model": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}, "message_count": {"type": "integer"}}},
    "Conversation": {"allOf": [_ref("ConversationSummary"), {"type": "object", "properties": {
        "messages": {"type": "array", "items": _ref("Message")}}}]},
    "ChatRequest": {"type": "object", "required": ["message", "model"], "properties": {
        "message": {"type": "string"}, "model": {"type": "string"}, "conversation_id": {"type": "string"},
        "params": _ref("Params"), "stream": {"type": "boolean", "default": False}}},
    "RegenerateRequest": {"type": "object", "properties": {
        "model": {"type": "string"}, "params": _ref("Params"), "stream": {"type": "boolean", "default": False}}},
    "ChatResult": {"type": "object", "properties": {
        "conversation_id": {"type": "string"}, "user_message": _ref("Message"), "message": _ref("Message")}},
    "Model": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"},
        "prompt_style": {"type": "string", "enum": ["fewshot", "alpaca", "chat"]},
        "context_length": {"type": "integer"}, "base_model": {"type": "string", "nullable": True},
        "default_params": _ref("Params")}},
    "Health": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]}, "api": {"type": "string"},
        "database": {"type": "string", "enum": ["ok", "error"]},
        "workers": {"type": "array", "items": {"type": "object", "properties": {
            "url": {"type": "string"}, "status": {"type": "string", "enum": ["ok", "down"]},
            "queue_depth": {"type": "integer", "nullable": True}}}}}},
}

PATHS: dict[str, Any] = {
    "/api/health": {"get": {"summary": "API, database and model servers' state",
                            "responses": {"200": _json(_ref("Health"))}}},
    "/api/models": {"get": {"summary": "models the servers offer, with prompt style and default params",
                            "responses": {"200": _json({"type": "object", "properties": {
                                "models": {"type": "array", "items": _ref("Model")}}}), "503": ERROR}}},
    "/api/openapi.json": {"get": {"summary": "this document", "responses": {"200": _json({"type": "object"})}}},
    "/api/chat": {"post": {"summary": "send a message; the reply as JSON or as an SSE stream",
                           "requestBody": {"required": True,
                                           "content": {"application/json": {"schema": _ref("ChatRequest")}}},
                           "responses": CHAT_RESULT}},
    "/api/conversations": {"get": {"summary": "the caller's conversations, newest first",
                                   "responses": {"200": _json({"type": "object", "properties": {
                                       "conversations": {"type": "array",
                                                         "items": _ref("ConversationSummary")}}})}}},
    "/api/conversations/{conversation_id}": {
        "parameters": [CONVERSATION_ID],
        "get": {"summary": "a conversation with its messages",
                "responses": {"200": _json(_ref("Conversation")), "404": ERROR}},
        "patch": {"summary": "rename",
                  "requestBody": {"required": True, "content": {"application/json": {"schema": {
                      "type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}}}},
                  "responses": {"200": _json(_ref("ConversationSummary")), "400": ERROR, "404": ERROR}},
        "delete": {"summary": "delete with its messages", "responses": {"204": {"description": "deleted"},
                                                                        "404": ERROR}},
    },
    "/api/conversations/{conversation_id}/export": {
        "parameters": [CONVERSATION_ID,
                       {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["markdown", "json"],
                                                                     "default": "markdown"}}],
        "get": {"summary": "download as a Markdown or JSON attachment",
                "responses": {"200": {"description": "attachment (Content-Disposition)", "content": {
                    "text/markdown": {"schema": {"type": "string"}},
                    "application/json": {"schema": _ref("Conversation")}}}, "400": ERROR, "404": ERROR}},
    },
    "/api/conversations/{conversation_id}/regenerate": {
        "parameters": [CONVERSATION_ID],
        "post": {"summary": "answer the last user message again, replacing the last reply",
                 "requestBody": {"content": {"application/json": {"schema": _ref("RegenerateRequest")}}},
                 "responses": CHAT_RESULT},
    },
}


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "llmchat chat API", "version": VERSION,
                 "description": "Conversations are scoped to the client IP; errors are "
                                "{\"error\": {\"message\", \"code\", \"field\"?}}."},
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
