"""The OpenAPI paths of the training studio's admin routes: the Data page and a run's exports (merged into
api/openapi.py's document; the same test and schemathesis run check them)."""

from __future__ import annotations

from typing import Any

from llmchat.api import documents, studio_schemas
from llmchat.api.openapi_teams import REASONS, _body, _json, _ref

STUDIO_REASONS = {
    **REASONS,
    400: "invalid request (the field is named; an upload: every bad row with its line, nothing saved)",
    404: "no such dataset, run or export file",
    409: "an upload of that name exists already",
    500: "the export failed (its log is in the answer)",
    504: "the export ran past its time limit",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(documents.Error, STUDIO_REASONS[status]) for status in statuses}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def studio_paths() -> dict[str, Any]:
    s = studio_schemas
    return {
        "/api/admin/data/datasets": {
            "get": {
                "summary": "the datasets under data/ (generated, chats, uploads) and the training recipes (admins)",
                "responses": {"200": _json(s.DatasetList), **_errors(403)},
            }
        },
        "/api/admin/data/datasets/{source}/{name}": {
            "parameters": [_path("source"), _path("name")],
            "get": {
                "summary": "a dataset's first rows, and the split and token lengths a recipe gives it (admins)",
                "parameters": [{"name": "recipe", "in": "query", "schema": {"type": "string", "maxLength": 100}}],
                "responses": {"200": _json(s.DatasetDetail), **_errors(400, 403, 404)},
            },
        },
        "/api/admin/data/uploads": {
            "post": {
                "summary": "save a JSONL / JSON / CSV file in data/uploads/ when every row is good (admins)",
                "requestBody": _body(s.UploadRequest),
                "responses": {
                    "201": _json(s.UploadResult, "saved"),
                    "400": {
                        "description": STUDIO_REASONS[400],
                        "content": {
                            "application/json": {"schema": {"anyOf": [_ref(s.BadRows), _ref(documents.Error)]}}
                        },
                    },
                    **_errors(403, 409, 413, 415),
                },
            }
        },
        "/api/admin/data/from-chats": {
            "post": {
                "summary": "write data/chats/<name>.jsonl from the users' thumbs, corrections and votes, with the "
                "skip report (admins; `llmchat data from-chats`)",
                "requestBody": {**_body(s.FromChatsRequest), "required": False},
                "responses": {"201": _json(s.FromChatsResult, "written"), **_errors(400, 403, 413, 415)},
            }
        },
        "/api/admin/runs/{run_id}/exports": {
            "parameters": [_path("run_id")],
            "get": {
                "summary": "a finished run's exports (admins)",
                "responses": {"200": _json(s.RunExports), **_errors(403, 404)},
            },
            "post": {
                "summary": "make exports of a finished run: merged HF folder, GGUF Q8_0 / Q4_0 with an Ollama "
                "Modelfile, OpenVINO int8 / int4 (admins; waits until they are written)",
                "requestBody": _body(s.ExportBody),
                "responses": {"201": _json(s.RunExports, "written"), **_errors(400, 403, 404, 413, 415, 500, 504)},
            },
        },
        "/api/admin/runs/{run_id}/exports/{name}": {
            "parameters": [_path("run_id"), _path("name")],
            "get": {
                "summary": "download one export file (a GGUF, a Modelfile) (admins)",
                "responses": {
                    "200": {
                        "description": "attachment",
                        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                    },
                    **_errors(403, 404),
                },
            },
        },
    }
