"""The built Vue app (frontend/dist) at `/`; other non-/api GET paths get index.html (client-side routing).

It hangs on the 404 handler rather than on a catch-all route, so a catch-all never turns
`POST /api/unknown` into a 405 and API routes always win.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request, send_from_directory
from werkzeug.exceptions import NotFound

from llmchat.api.errors import error_body


def install_frontend(app: Flask, dist: Path) -> None:
    def not_found(exc: NotFound):
        path = request.path.lstrip("/")
        is_api = path == "api" or path.startswith("api/")
        if is_api or request.method not in ("GET", "HEAD") or not (dist / "index.html").is_file():
            return error_body("not_found", _message(is_api, dist)), 404
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return send_from_directory(dist, path)
        return send_from_directory(dist, "index.html", max_age=0)

    app.register_error_handler(404, not_found)


def _message(is_api: bool, dist: Path) -> str:
    if is_api or (dist / "index.html").is_file():
        return f"no route {request.method} {request.path}"
    return f"no route {request.path}; the web app is not built ({dist} has no index.html): run `npm run build` in frontend/"
