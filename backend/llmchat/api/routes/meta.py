"""GET /api/health, /api/models, /api/limits, /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, jsonify

from llmchat.api.openapi import openapi_document
from llmchat.api.schemas import limits_document
from llmchat.api.services import services

bp = Blueprint("meta", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    app = services()
    try:
        app.store.ping()
        database = "ok"
    except Exception:
        database = "error"
    workers = app.router.health_report()
    healthy = database == "ok" and any(w["status"] == "ok" for w in workers)
    return jsonify({"status": "ok" if healthy else "degraded", "api": "ok", "database": database, "workers": workers})


@bp.get("/models")
def models():
    catalog = services().router.catalog(fresh=True)  # the UI asks rarely: always ask the servers
    return jsonify({"models": [info.public() for info in catalog.values()]})


@bp.get("/limits")
def limits():
    """The bounds the API validates with, for the web app's settings (from the same pydantic models)."""
    app = services()
    return jsonify(limits_document(app.schemas, app.config.limits.max_message_chars))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(services().schemas))
