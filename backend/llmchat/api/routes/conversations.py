"""The caller's conversations: list, read, rename, delete, export. Another IP's conversation is 404."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from llmchat.api.errors import ApiError
from llmchat.api.schemas import RenameRequest, validate
from llmchat.api.serializers import conversation_json, conversation_summary, export_json, export_markdown
from llmchat.api.services import caller_ip, json_body, services

bp = Blueprint("conversations", __name__, url_prefix="/api/conversations")

EXPORTS = {
    "markdown": ("text/markdown; charset=utf-8", "md", export_markdown),
    "json": ("application/json", "json", export_json),
}


@bp.get("")
def list_conversations():
    records = services().store.list_conversations(caller_ip())
    return jsonify({"conversations": [conversation_summary(r) for r in records]})


@bp.get("/<conversation_id>")
def get_conversation(conversation_id: str):
    return jsonify(conversation_json(services().chat.owned_conversation(caller_ip(), conversation_id)))


@bp.patch("/<conversation_id>")
def rename_conversation(conversation_id: str):
    body = validate(RenameRequest, json_body())
    title = " ".join(body.title.split())
    if not title:
        raise ApiError(400, "invalid_field", "title must not be blank", field="title")
    record = services().store.rename_conversation(caller_ip(), conversation_id, title)
    if record is None:
        raise ApiError(404, "not_found", "conversation not found")
    return jsonify(conversation_summary(record))


@bp.delete("/<conversation_id>")
def delete_conversation(conversation_id: str):
    if not services().store.delete_conversation(caller_ip(), conversation_id):
        raise ApiError(404, "not_found", "conversation not found")
    return Response(status=204)


@bp.get("/<conversation_id>/export")
def export_conversation(conversation_id: str):
    name = request.args.get("format", "markdown")
    if name not in EXPORTS:
        raise ApiError(400, "invalid_field", f"format must be one of {sorted(EXPORTS)}", field="format")
    record = services().chat.owned_conversation(caller_ip(), conversation_id)
    mimetype, suffix, render = EXPORTS[name]
    return Response(
        render(record),
        mimetype=mimetype.split(";")[0],
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="conversation-{record.id}.{suffix}"'},
    )
