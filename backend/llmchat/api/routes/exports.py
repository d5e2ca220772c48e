"""A finished run's exports (admins only): list them, make them (merged HF folder, GGUF Q8_0 / Q4_0 with an Ollama
Modelfile, OpenVINO int8 / int4) and download a single file.

Making them runs `llmchat export` as a child process and waits for it: the API process never loads the model, and
its memory goes back when the export ends. The answer comes when the files are written (seconds for the tiny
model, minutes for a 1B one).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Blueprint, jsonify, send_file

from llmchat.api.errors import ApiError
from llmchat.api.routes.admin import admins_only
from llmchat.api.schemas import validate
from llmchat.api.serializers import dump
from llmchat.api.services import json_body
from llmchat.api.studio_schemas import ExportBody, RunExports
from llmchat.models.config_file import entry_yaml
from llmchat.models.manifest import MANIFEST, read_manifest
from llmchat.paths import models_dir
from llmchat.training.export import EXPORTS, list_exports
from llmchat.training.runner.form import shown_path

EXPORT_TIMEOUT_S = 3600
LOG_TAIL_CHARS = 4000

bp = Blueprint("run_exports", __name__, url_prefix="/api/admin/runs")
bp.before_request(admins_only)


def _run_dir(run_id: str) -> Path:
    """models/runs/<run_id>, finished; a run id only, never a path."""
    run_dir = models_dir() / "runs" / run_id
    if "/" in run_id or "\\" in run_id or run_id.startswith(".") or not (run_dir / MANIFEST).is_file():
        raise ApiError(404, "not_found", f"no finished run {run_id!r}")
    return run_dir


def _exports_json(run_id: str, run_dir: Path, log: str | None = None) -> dict:
    """Each export with its place on the server (these routes are for admins, who see server paths: the rule of
    model cards) and, for the merged HF folder, the configs/models.yaml entry that serves it."""
    exports = []
    for item in list_exports(run_dir):
        path = run_dir / item["name"]
        url = f"/api/admin/runs/{run_id}/exports/{path.name}" if path.is_file() else None
        serve = _serve_entry(run_id, run_dir, path) if item["kind"] == "hf" else None
        exports.append({**item, "url": url, "path": shown_path(path), "serve": serve})
    return dump(RunExports, {"run": run_id, "exports": exports, "log": log})


def _serve_entry(run_id: str, run_dir: Path, folder: Path) -> str:
    """The merged folder is a standalone model: an entry of its own (the run itself stays served as base + adapter),
    in the prompt style it was trained on."""
    style = read_manifest(run_dir).get("prompt_style", "alpaca")
    entry = {"id": f"{run_id}-merged", "kind": "alpaca", "source": shown_path(folder), "prompt_style": style}
    return entry_yaml(entry)


@bp.get("/<run_id>/exports")
def exports_of(run_id: str):
    return jsonify(_exports_json(run_id, _run_dir(run_id)))


@bp.post("/<run_id>/exports")
def make_exports(run_id: str):
    body = validate(ExportBody, json_body())
    if not (body.merge or body.gguf or body.openvino):
        raise ApiError(400, "invalid_field", "ask for merge, gguf and/or openvino", field="gguf")
    run_dir = _run_dir(run_id)
    command = [sys.executable, "-m", "llmchat.cli", "export", str(run_dir)]
    command += ["--merge"] if body.merge else []
    command += [arg for gguf_type in body.gguf for arg in ("--gguf", gguf_type)]
    command += [arg for weight_format in body.openvino for arg in ("--openvino", weight_format)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ApiError(504, "export_timeout", f"the export took over {EXPORT_TIMEOUT_S} s and was stopped") from exc
    log = (done.stdout + done.stderr)[-LOG_TAIL_CHARS:]
    if done.returncode != 0:
        message = next((line for line in reversed(done.stderr.splitlines()) if line.startswith("error: ")), "")
        if message:  # a refusal the CLI names (not a llama-architecture model, ...)
            raise ApiError(400, "export_refused", message.removeprefix("error: "), extra={"log": log})
        raise ApiError(500, "export_failed", "the export failed; see log", extra={"log": log})
    return jsonify(_exports_json(run_id, run_dir, log)), 201


@bp.get("/<run_id>/exports/<name>")
def download(run_id: str, name: str):
    """One file of exports/ (a GGUF, a Modelfile) as an attachment."""
    folder = _run_dir(run_id) / EXPORTS
    path = folder / name
    if name.startswith(".") or "/" in name or not path.is_file():
        raise ApiError(404, "not_found", f"no export {name!r} of {run_id!r}")
    return send_file(path, as_attachment=True, download_name=name, mimetype="application/octet-stream")
