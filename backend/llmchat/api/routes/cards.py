"""GET /api/models/<id>/card: what a model is and, for a fine-tuning run, how it was made.

Asked of the model's server over HTTP (`GET /v1/models/{id}/card`, llmchat's worker), never read from a disk the
API may not share with it. A server without that route gets a card of what /v1/models told: no run.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from pydantic import ValidationError

from llmchat.api import documents
from llmchat.api.chat_service import WORKER_ERRORS, not_found
from llmchat.api.errors import ApiError
from llmchat.api.routing import ModelInfo
from llmchat.api.services import services

bp = Blueprint("cards", __name__, url_prefix="/api")


def listed_card(info: ModelInfo) -> dict[str, Any]:
    """The card of a model whose server has none: the fields the catalog has."""
    return {
        "id": info.id,
        "kind": info.kind,
        "base_model": info.base_model,
        "prompt_style": info.prompt_style,
        "engine": info.engine,
        "context_length": info.context_length,
        "origin": info.origin,
        "created": info.created,
        "run": None,
    }


@bp.get("/models/<path:model_id>/card")
def model_card(model_id: str):
    app = services()
    try:
        info = app.router.catalog().get(model_id)
        if info is None:
            raise not_found("model")
        endpoint = app.router.pick(info)
        served = app.router.client.model_card(endpoint, model_id)
    except WORKER_ERRORS as exc:
        raise ApiError(
            503, "worker_unavailable", f"model server unavailable: {exc}", headers={"Retry-After": "5"}
        ) from exc
    card = listed_card(info)
    if served is not None:
        try:  # the server's card, checked against what this API documents; a malformed one is not passed on
            card = documents.ModelCard.model_validate({**card, **served, "id": info.id}).model_dump(mode="json")
        except ValidationError:
            pass
        else:
            if card["run"] is not None:  # a point has the losses it has: no nulls for the missing one
                card["run"]["loss_curve"] = [
                    {k: v for k, v in point.items() if v is not None} for point in card["run"]["loss_curve"]
                ]
    return jsonify(card)
