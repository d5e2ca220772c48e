"""An Ollama model store laid out as `ollama pull` writes it: manifests/<host>/<namespace>/<name>/<tag> (JSON with
config and layers) and blobs/sha256-<hex>, the model layer a GGUF file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

# a real Ollama chat template (Go template syntax): stored, never executed by llmchat
GO_TEMPLATE = "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}<|im_start|>user\n{{ .Prompt }}"


def _blob(store: Path, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (store / "blobs").mkdir(parents=True, exist_ok=True)
    (store / "blobs" / f"sha256-{digest}").write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def add_ollama_model(store: Path, name: str, gguf: Path, params: dict | None = None, tag: str = "latest") -> Path:
    """Write `gguf` as the model layer of `name:tag` (`namespace/name` allowed), with a template and a params layer
    as Ollama keeps them; returns the manifest path."""
    namespace, _, model = name.rpartition("/")
    layers = [
        _blob(store, gguf.read_bytes(), "application/vnd.ollama.image.model"),
        _blob(store, GO_TEMPLATE.encode(), "application/vnd.ollama.image.template"),
    ]
    if params is not None:
        layers.append(_blob(store, json.dumps(params).encode(), "application/vnd.ollama.image.params"))
    config = _blob(store, json.dumps({"model_format": "gguf", "model_family": "llama"}).encode(), "")
    config["mediaType"] = "application/vnd.docker.container.image.v1+json"
    manifest = store / "manifests" / "registry.ollama.ai" / (namespace or "library") / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": config,
                "layers": layers,
            }
        ),
        encoding="utf-8",
    )
    return manifest
