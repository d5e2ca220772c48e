"""GET /api/leaderboard: every model's rating from everyone's votes (no prompts or replies are shown)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from llmchat.api.services import services
from llmchat.ranking import leaderboard as build_leaderboard

bp = Blueprint("leaderboard", __name__, url_prefix="/api")


@bp.get("/leaderboard")
def leaderboard():
    store = services().feedback
    return jsonify(build_leaderboard(store.battles(), store.thumbs()))
