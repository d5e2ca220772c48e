"""Feedback on a reply (PUT /api/messages/<id>/feedback) and votes between two replies (POST /api/votes).

Both write only to the caller's own replies (another identity's: 404). Neither makes the model write, so neither counts
against the rate limit; both are covered by the JSON-only and Origin checks like every write (security.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from llmchat.api.errors import ApiError
from llmchat.api.owned import not_found
from llmchat.api.schemas import validate
from llmchat.api.serializers import message_json, vote_json
from llmchat.api.services import caller, json_body, services
from llmchat.store import NotFound, VoteRefused

bp = Blueprint("feedback", __name__, url_prefix="/api")


@bp.put("/messages/<int:message_id>/feedback")
def set_feedback(message_id: int):
    """A thumb and/or a better answer; `rating: null` with no correction left clears the feedback."""
    app = services()
    body = validate(app.schemas.feedback, json_body())
    correction = body.correction.strip() if body.correction is not None else None
    limit = app.config.limits.max_message_chars
    if correction is not None and len(correction) > limit:
        raise ApiError(
            413,
            "message_too_large",
            f"correction has {len(correction)} characters; the limit is {limit}",
            field="correction",
        )
    record = app.feedback.set_feedback(
        caller(), message_id, body.rating, correction, keep_correction="correction" not in body.model_fields_set
    )
    if record is None:
        raise not_found("message")
    return jsonify(message_json(record))


@bp.post("/votes")
def vote():
    """Which of two replies to the same prompt was better; the same pair again replaces the earlier vote (200)."""
    app = services()
    body = validate(app.schemas.vote, json_body())
    try:
        record, created = app.feedback.record_vote(caller(), body.left_message_id, body.right_message_id, body.winner)
    except NotFound as exc:
        raise not_found("message") from exc
    except VoteRefused as exc:
        raise ApiError(400, "invalid_field", f"{exc.field}: {exc}", field=exc.field) from exc
    response = jsonify({"vote": vote_json(record)})
    response.status_code = 201 if created else 200
    return response
