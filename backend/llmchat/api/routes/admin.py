"""The Admin page's data: users (identity: accounts), everyone's usage, and loading or unloading a model on its
server. Admins see counts, never anyone's chats: no route here reads a conversation."""

from __future__ import annotations

from collections import defaultdict
from functools import wraps
from urllib.parse import quote

from flask import Blueprint, jsonify

from llmchat.api.callers import current_caller
from llmchat.api.errors import ApiError, Refused
from llmchat.api.routes.usage import row_json, since, usage_days
from llmchat.api.schemas import validate
from llmchat.api.services import json_body, services
from llmchat.api.team_schemas import UserUpdate
from llmchat.modelclient import WorkerRejected
from llmchat.store import UserRecord

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.before_request
def admins_only():
    if not current_caller().admin:
        raise Refused(403, "admin_only", "only an admin may do this")


def user_json(user: UserRecord) -> dict:
    return {
        "name": user.name,
        "identity": user.identity,
        "role": user.role,
        "status": user.status,
        "created_at": user.created_at.isoformat(),
    }


def accounts_mode(view):
    @wraps(view)
    def checked(*args, **kwargs):
        mode = services().config.identity
        if mode != "accounts":
            raise ApiError(404, "not_found", f"there are no local accounts here (identity: {mode})")
        return view(*args, **kwargs)

    return checked


@bp.get("/users")
@accounts_mode
def list_users():
    return jsonify({"users": [user_json(u) for u in services().accounts.users()]})


@bp.patch("/users/<name>")
@accounts_mode
def update_user(name: str):
    """Approve (status active), disable, or make admin (role). An admin cannot take their own rights away."""
    body = validate(UserUpdate, json_body())
    if name == current_caller().name and (body.role == "user" or body.status not in (None, "active")):
        raise ApiError(400, "invalid_field", "you cannot demote or disable yourself", field="role")
    user = services().accounts.update_user(name, role=body.role, status=body.status)
    if user is None:
        raise ApiError(404, "not_found", "user not found")
    return jsonify(user_json(user))


@bp.get("/usage")
def everyone_usage():
    """Every identity's rows, and per identity the totals the chart draws."""
    rows = services().usage.rows(None, since(usage_days()))
    totals: dict[str, dict[str, int]] = defaultdict(lambda: {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0})
    for row in rows:
        total = totals[row.identity]
        total["requests"] += row.requests
        total["prompt_tokens"] += row.prompt_tokens
        total["completion_tokens"] += row.completion_tokens
    ranked = sorted(totals.items(), key=lambda item: -(item[1]["prompt_tokens"] + item[1]["completion_tokens"]))
    return jsonify(
        {
            "usage": [row_json(r, with_identity=True) for r in rows],
            "totals": [{"identity": identity, **total} for identity, total in ranked],
        }
    )


@bp.post("/models/<path:model_id>/load", defaults={"action": "load"})
@bp.post("/models/<path:model_id>/unload", defaults={"action": "unload"})
def model_residency(model_id: str, action: str):
    """Load a model on its server now, or unload it (llmchat's worker: POST /v1/models/{id}/load|unload). A model
    with requests in flight is not unloaded (409); a server without these routes answers 404 here."""
    app = services()
    try:
        model = app.router.model(model_id)
        endpoint = app.router.pick(model)
        answer = app.router.client.relay(endpoint, f"/v1/models/{quote(model_id, safe='')}/{action}", {})
    except WorkerRejected as exc:
        if exc.status in (404, 405):
            raise ApiError(
                404, "not_supported", f"the server of {model_id} cannot {action} models (llmchat's worker can)"
            ) from exc
        if exc.status == 409:
            raise ApiError(409, "model_busy", f"the model server refused: {exc.message}") from exc
        raise
    return jsonify(answer)
