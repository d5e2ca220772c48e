"""GET /api/models/<id>/card: what a model is and, for a fine-tuning run, how it was made.

Asked of the model's server over HTTP (`GET /v1/models/{id}/card`, llmchat's worker), never read from a disk the
API may not share with it. A server without that route gets a card of what /v1/models told: no run.

A card names files on the model server (the recipe's data and output folders, where an evaluation's report and test
data are): those are the operator's business, so only admins see them; everyone else gets each path's last part
(the file's name) and no report location.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from flask import Blueprint, jsonify
from pydantic import ValidationError

from llmchat.api import documents
from llmchat.api.callers import current_caller
from llmchat.api.owned import not_found
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


# a source string (hf:ORG/NAME, ollama:NAME, package:NAME) or a URL is no path on the server
_SOURCE = re.compile(r"^[a-z][a-z0-9+.-]*:(?![\\/])", re.IGNORECASE)
_DRIVE = re.compile(r"^[a-z]:[\\/]", re.IGNORECASE)
_KEEP = {"id", "base_model", "model"}  # model names, whatever they look like
_LOCATIONS = {"report"}  # where a file lies, nothing else: gone for non-admins


def looks_like_path(text: str) -> bool:
    """Absolute (/..., ~/..., C:\\...) or a relative path with a separator and no spaces (data/tasks.jsonl)."""
    if not text or "\n" in text or "://" in text or _SOURCE.match(text):
        return False
    if text.startswith(("/", "~")) or _DRIVE.match(text):
        return True
    return not any(c.isspace() for c in text) and ("/" in text or "\\" in text)


def _file_name(text: str) -> str:
    path = PureWindowsPath(text) if "\\" in text else PurePosixPath(text)
    return path.name or text.strip("/\\~") or "…"


def without_paths(value: Any) -> Any:
    """The card with every server path cut to its last part and report locations left out."""
    if isinstance(value, dict):
        return {
            key: item if key in _KEEP else without_paths(item) for key, item in value.items() if key not in _LOCATIONS
        }
    if isinstance(value, list):
        return [without_paths(item) for item in value]
    if isinstance(value, str) and looks_like_path(value):
        return _file_name(value)
    return value


@bp.get("/models/<path:model_id>/card")
def model_card(model_id: str):
    app = services()
    info = app.router.catalog().get(model_id)
    if info is None:
        raise not_found("model")
    endpoint = app.router.pick(info)
    served = app.router.client.model_card(endpoint, model_id)
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
    return jsonify(card if current_caller().admin else without_paths(card))
