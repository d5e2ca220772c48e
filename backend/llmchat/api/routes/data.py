"""The Data page (admins only): the datasets under data/ with a preview, the split and the token lengths a recipe
would give them, uploads checked row by row, and `from-chats` exports made with a button.

An upload is saved only when every row is good: otherwise a 400 lists each bad row with its line and field, and
nothing is written (fix the file and upload it again). The from-chats export reads every identity's rated
replies and votes, which is why only an admin may run it; it writes rows, never shows anyone's conversations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from flask import Blueprint, jsonify, request

from llmchat.api.errors import ApiError
from llmchat.api.routes.admin import admins_only
from llmchat.api.schemas import validate
from llmchat.api.services import json_body, services
from llmchat.api.studio_schemas import UPLOAD_MAX_CHARS, FromChatsRequest, UploadRequest
from llmchat.paths import data_dir
from llmchat.training import catalog, data_stats

bp = Blueprint("studio_data", __name__, url_prefix="/api/admin/data")
bp.before_request(admins_only)


@bp.before_request
def room_for_uploads():
    """An uploaded file is larger than a chat message: this route's own body limit (UTF-8, 4 bytes a character)."""
    if request.endpoint == "studio_data.upload":
        request.max_content_length = UPLOAD_MAX_CHARS * 4 + 64 * 1024


@bp.get("/datasets")
def list_datasets():
    return jsonify(
        {
            "datasets": [d.summary() for d in catalog.list_datasets(data_dir())],
            "recipes": data_stats.recipes(),
        }
    )


@bp.get("/datasets/<source>/<name>")
def dataset_detail(source: str, name: str):
    """Rows, split and token lengths for `?recipe=` (default: the demo or chat recipe of the file's format)."""
    try:
        found_source, path = catalog.dataset_path(data_dir(), f"{source}/{name}")
    except (ValueError, FileNotFoundError) as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    dataset = catalog.read_dataset(found_source, path)
    recipe_name = request.args.get("recipe") or data_stats.default_recipe(dataset.format, dataset.source)
    try:
        recipe = data_stats.load_recipe(recipe_name)
    except ValueError as exc:
        raise ApiError(400, "invalid_field", str(exc), field="recipe") from exc
    try:
        stats = data_stats.describe(dataset.format, dataset.rows, recipe)
    except (ValueError, OSError) as exc:  # the recipe's base model is not on this machine (SourceUnavailable)
        raise ApiError(400, "invalid_field", f"recipe {recipe_name}: {exc}", field="recipe") from exc
    return jsonify(
        {
            "dataset": dataset.summary(),
            "recipe": recipe_name,
            "preview": dataset.rows[: catalog.PREVIEW_ROWS],
            **stats,
        }
    )


@bp.post("/uploads")
def upload():
    body = validate(UploadRequest, json_body())
    try:
        dataset = catalog.save_upload(data_dir(), body.name, body.text, body.format)
    except catalog.UploadRejected as exc:
        raise ApiError(
            400,
            "bad_rows",
            f"{len(exc.errors)} bad row(s), nothing saved; the first: {catalog.describe_error(exc.errors[0])}",
            field="text",
            extra={
                "errors": [catalog.error_json(e) for e in exc.errors[: catalog.MAX_ERRORS]],
                "error_count": len(exc.errors),
            },
        ) from exc
    except FileExistsError as exc:
        raise ApiError(409, "exists", str(exc), field="name") from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_field", str(exc), field="name") from exc
    return jsonify({"dataset": dataset.summary()}), 201


@bp.post("/from-chats")
def from_chats():
    """`llmchat data from-chats` on this API's database into data/chats/<name>.jsonl, with its skip report."""
    from llmchat.training.from_chats import FromChatsOptions, report_lines, run_from_chats

    body = validate(FromChatsRequest, json_body(optional=True))
    name = body.name or f"{body.format}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    out = data_dir() / "chats" / f"{name}.jsonl"
    recipe = data_stats.recipes_dir() / f"{body.recipe}.yaml" if body.recipe else None
    if recipe is not None and not recipe.is_file():
        raise ApiError(400, "invalid_field", f"recipe: no configs/train/{body.recipe}.yaml", field="recipe")
    try:
        since = datetime.combine(date.fromisoformat(body.since), datetime.min.time(), UTC) if body.since else None
    except ValueError as exc:
        raise ApiError(400, "invalid_field", f"since: {body.since!r} is not a day", field="since") from exc
    options = FromChatsOptions(
        out=out,
        database_url=services().config.database_url,
        format=body.format,
        models=body.models,
        since=since,
        config=recipe,
    )
    try:
        harvest = run_from_chats(options)
    except (ValueError, OSError) as exc:  # DataError, a bad recipe, a base model not there
        raise ApiError(400, "export_failed", str(exc), field="recipe" if recipe else None) from exc
    dataset = catalog.read_dataset("chats", out, body.format)
    return jsonify(
        {
            "dataset": dataset.summary(),
            "considered": harvest.considered,
            "skipped": dict(harvest.skipped.most_common()),
            "report": report_lines(harvest, body.format, str(Path("data") / "chats" / out.name)),
        }
    ), 201
