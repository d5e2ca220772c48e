"""GET /api/usage: the caller's requests and tokens per model and day, and today's quota."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, jsonify, request

from llmchat.api.errors import ApiError
from llmchat.api.services import caller, services
from llmchat.store import UsageRow
from llmchat.store.usage import next_utc_midnight

bp = Blueprint("usage", __name__, url_prefix="/api")

MAX_DAYS = 366


def usage_days() -> int:
    raw = request.args.get("days", "30")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise ApiError(400, "invalid_field", f"days must be a whole number from 1 to {MAX_DAYS}", field="days")
    return int(raw)


def since(days: int):
    return (datetime.now(UTC) - timedelta(days=days - 1)).date()


def row_json(row: UsageRow, with_identity: bool = False) -> dict:
    data = {
        "day": row.day,
        "model": row.model,
        "requests": row.requests,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
    }
    return {"identity": row.identity, **data} if with_identity else data


@bp.get("/usage")
def my_usage():
    app = services()
    identity = caller()
    rows = app.usage.rows(identity, since(usage_days()))
    return jsonify(
        {
            "identity": identity,
            "usage": [row_json(r) for r in rows],
            "today": {
                "tokens": app.usage.tokens_today(identity),
                "tokens_per_day": app.config.limits.tokens_per_day,
                "resets_at": next_utc_midnight().isoformat(),
            },
        }
    )
