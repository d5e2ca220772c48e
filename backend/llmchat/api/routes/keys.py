"""The caller's personal API keys: list, create (the key is in this answer and nowhere else, ever), revoke."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from llmchat.api.errors import ApiError
from llmchat.api.schemas import validate
from llmchat.api.services import caller, json_body, services
from llmchat.api.team_schemas import NewKey
from llmchat.store import KeyRecord

bp = Blueprint("keys", __name__, url_prefix="/api/keys")


def key_json(record: KeyRecord) -> dict:
    return {
        "id": record.id,
        "name": record.name,
        "prefix": record.prefix,
        "created_at": record.created_at.isoformat(),
        "last_used_at": record.last_used_at.isoformat() if record.last_used_at else None,
        "revoked": record.revoked,
    }


@bp.get("")
def list_keys():
    return jsonify({"keys": [key_json(k) for k in services().keys.list(caller())]})


@bp.post("")
def create_key():
    body = validate(NewKey, json_body())
    record, key = services().keys.create(caller(), body.name)
    response = jsonify({**key_json(record), "key": key})
    response.status_code = 201
    return response


@bp.delete("/<int:key_id>")
def revoke_key(key_id: int):
    if not services().keys.revoke(key_id, caller()):
        raise ApiError(404, "not_found", "key not found")
    return Response(status=204)
