"""The caller's conversations: list, create, read, rename, delete, export, switch versions. Another identity's is 404."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from llmchat.api.blind import draw_pair
from llmchat.api.errors import ApiError
from llmchat.api.exports import attachment_header, export_json, export_markdown
from llmchat.api.owned import not_found, owned_conversation
from llmchat.api.schemas import validate
from llmchat.api.serializers import conversation_json, conversation_summary
from llmchat.api.services import Services, caller, json_body, services

bp = Blueprint("conversations", __name__, url_prefix="/api/conversations")

EXPORTS = {
    "markdown": ("text/markdown; charset=utf-8", "md", export_markdown),
    "json": ("application/json", "json", export_json),
}


@bp.get("")
def list_conversations():
    records = services().store.list_conversations(caller())
    return jsonify({"conversations": [conversation_summary(r) for r in records]})


@bp.post("")
def create_conversation():
    """An empty conversation; a compare session names its two column models, or has them drawn (blind)."""
    app = services()
    body = validate(app.schemas.create_conversation, json_body())
    models = _compare_models(app, body) if body.kind == "compare" else []
    if body.kind != "compare" and (body.models or body.blind):
        field = "models" if body.models else "blind"
        raise ApiError(
            400, "invalid_field", f"{field}: only a compare session names its models or is blind", field=field
        )
    owner = caller()
    record = app.store.create_conversation(
        owner, "", None, kind=body.kind, models=models or None, title_state="untitled", blind=body.blind
    )
    response = jsonify(conversation_json(owned_conversation(app.store, owner, record.id)))
    response.status_code = 201
    return response


def _compare_models(app: Services, body) -> list[str]:
    """[left, right]: the two named (each one the servers offer), or, blind, two different ones drawn at random; or,
    blind with two named (a run against its base, from its page), those two on sides drawn at random."""
    if body.blind and not body.models:
        return draw_pair(app.router.catalog(fresh=True))
    if len(body.models) != 2 or (body.blind and body.models[0] == body.models[1]):
        raise ApiError(
            400, "invalid_field", "models: a compare session needs two (different, if blind) models", field="models"
        )
    for index, model in enumerate(body.models):
        app.router.model(model, field=f"models.{index}")
    return draw_pair(body.models) if body.blind else list(body.models)


@bp.get("/<conversation_id>")
def get_conversation(conversation_id: str):
    return jsonify(conversation_json(owned_conversation(services().store, caller(), conversation_id)))


@bp.patch("/<conversation_id>")
def rename_conversation(conversation_id: str):
    app = services()
    body = validate(app.schemas.rename, json_body())
    title = " ".join(body.title.split())
    if not title:
        raise ApiError(400, "invalid_field", "title must not be blank", field="title")
    record = app.store.rename_conversation(caller(), conversation_id, title)
    if record is None:
        raise not_found()
    return jsonify(conversation_summary(record))


@bp.delete("/<conversation_id>")
def delete_conversation(conversation_id: str):
    # a reply being written finds its rows gone at its next save: its stream ends with an event, its generation
    # is cancelled (in whichever API process it runs)
    if not services().store.delete_conversation(caller(), conversation_id):
        raise not_found()
    return Response(status=204)


@bp.put("/<conversation_id>/current")
def set_current(conversation_id: str):
    """Show another version: the branch on screen goes through `message_id`, down to its newest leaf."""
    app = services()
    body = validate(app.schemas.set_current, json_body())
    owner = caller()
    owned_conversation(app.store, owner, conversation_id)
    record = app.store.set_current(owner, conversation_id, body.message_id)
    if record is None:
        raise not_found("message")
    return jsonify(conversation_json(record))


@bp.get("/<conversation_id>/export")
def export_conversation(conversation_id: str):
    name = request.args.get("format", "markdown")
    if name not in EXPORTS:
        raise ApiError(400, "invalid_field", f"format must be one of {sorted(EXPORTS)}", field="format")
    record = services().store.get_conversation(caller(), conversation_id, whole_tree=True)
    if record is None:
        raise not_found()
    mimetype, suffix, render = EXPORTS[name]
    return Response(
        render(record),
        mimetype=mimetype.split(";")[0],
        content_type=mimetype,
        headers={"Content-Disposition": attachment_header(record.title, suffix)},
    )
