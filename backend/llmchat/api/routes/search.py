"""GET /api/search: full-text search over the caller's messages (the database's own index)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from llmchat.api.errors import ApiError
from llmchat.api.schemas import validate
from llmchat.api.serializers import search_json
from llmchat.api.services import caller, services

bp = Blueprint("search", __name__, url_prefix="/api")


@bp.get("/search")
def search():
    app = services()
    query = validate(app.schemas.search, request.args.to_dict())
    if not query.q.strip():
        raise ApiError(400, "invalid_field", "q: the search text must not be blank", field="q")
    return jsonify(search_json(app.store.search(caller(), query.q, query.limit)))
