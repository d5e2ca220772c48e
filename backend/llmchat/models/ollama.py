"""`ollama:NAME[:TAG]` sources: models that `ollama pull` already put on this machine, read from Ollama's store.

The store ($OLLAMA_MODELS, else ~/.ollama/models) holds `manifests/<host>/<namespace>/<name>/<tag>` (JSON, like a
docker manifest: `layers` with `mediaType` and `digest`) and `blobs/sha256-<hex>`. The model layer is a GGUF file;
the params layer (JSON) gives default sampling values and the context length. The template layer is a Go template
and is not used: the GGUF's own tokenizer.chat_template is. The GGUF loaders decide by the file suffix, so the blob
is served through a `<name>-<tag>.gguf` symlink under the models folder's .cache.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from llmchat.models.specs import SourceUnavailable

OLLAMA_PREFIX = "ollama:"
DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MODEL_LAYER = "application/vnd.ollama.image.model"
PARAMS_LAYER = "application/vnd.ollama.image.params"
ADAPTER_LAYER = "application/vnd.ollama.image.adapter"
# where the Linux installer's system service keeps its store (its home is /usr/share/ollama)
SERVICE_STORE = Path("/usr/share/ollama/.ollama/models")
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Ollama params -> llmchat default_params field
PARAM_NAMES = {"temperature": "temperature", "top_p": "top_p", "repeat_penalty": "repetition_penalty"}


@dataclass(frozen=True)
class OllamaRef:
    name: str
    tag: str = DEFAULT_TAG
    namespace: str = DEFAULT_NAMESPACE
    host: str = DEFAULT_HOST

    def __str__(self) -> str:
        """The name as `ollama list` shows it: library models without host and namespace."""
        if self.host != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.name}:{self.tag}"
        if self.namespace != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.name}:{self.tag}"
        return f"{self.name}:{self.tag}"

    @property
    def manifest_parts(self) -> tuple[str, str, str, str]:
        return self.host, self.namespace, self.name, self.tag


@dataclass(frozen=True)
class OllamaModel:
    ref: OllamaRef
    blob: Path  # the GGUF (model layer)
    size: int  # bytes of the model layer
    params: dict = field(default_factory=dict)  # the params layer, as Ollama wrote it


def parse_ollama(text: str) -> OllamaRef:
    """`NAME[:TAG]`, `NAMESPACE/NAME[:TAG]` or `HOST/NAMESPACE/NAME[:TAG]` (the part after `ollama:`)."""
    path, _, tag = text.rpartition(":") if ":" in text.rsplit("/", 1)[-1] else (text, "", DEFAULT_TAG)
    parts = path.split("/")
    if not 1 <= len(parts) <= 3 or not all(_PART.match(part) for part in [*parts, tag]):
        raise ValueError(f"expected NAME[:TAG], NAMESPACE/NAME[:TAG] or HOST/NAMESPACE/NAME[:TAG], got {text!r}")
    if len(parts) == 3:
        return OllamaRef(parts[2], tag, parts[1], parts[0])
    if len(parts) == 2:
        return OllamaRef(parts[1], tag, parts[0])
    return OllamaRef(parts[0], tag)


def store_dir() -> Path:
    """$OLLAMA_MODELS, else ~/.ollama/models, else (Linux service install) /usr/share/ollama/.ollama/models."""
    configured = os.environ.get("OLLAMA_MODELS")
    if configured:
        return Path(configured).expanduser().absolute()  # absolute: the .gguf symlinks point into it
    home = Path.home() / ".ollama" / "models"
    return SERVICE_STORE if not home.is_dir() and SERVICE_STORE.is_dir() else home


def blob_path(store: Path, digest: str) -> Path:
    return store / "blobs" / digest.replace(":", "-")


def find_model(ref: OllamaRef, store: Path | None = None) -> OllamaModel:
    """The model's GGUF blob and params from its manifest; SourceUnavailable names the store looked in."""
    store = store or store_dir()
    manifest = store / "manifests" / Path(*ref.manifest_parts)
    if not manifest.is_file():
        raise SourceUnavailable(
            f"no Ollama model {ref} in {store} (no {manifest}); run `ollama pull {ref}` or set OLLAMA_MODELS "
            "to the store that has it"
        )
    return _read_manifest(ref, store, manifest)


def _read_manifest(ref: OllamaRef, store: Path, manifest: Path) -> OllamaModel:
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8"))["layers"]
        by_type = {layer["mediaType"]: layer for layer in layers}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceUnavailable(f"Ollama model {ref}: unreadable manifest {manifest} ({exc})") from exc
    if ADAPTER_LAYER in by_type:
        raise SourceUnavailable(f"Ollama model {ref} is a base model plus an adapter layer, which is not supported")
    if MODEL_LAYER not in by_type:
        raise SourceUnavailable(f"Ollama model {ref}: its manifest {manifest} has no model layer")
    blob = blob_path(store, by_type[MODEL_LAYER]["digest"])
    if not blob.is_file():
        raise SourceUnavailable(f"Ollama model {ref}: the model blob {blob} is missing (`ollama pull {ref}` again)")
    return OllamaModel(ref, blob, int(by_type[MODEL_LAYER].get("size") or blob.stat().st_size), _params(by_type, store))


def _params(by_type: dict, store: Path) -> dict:
    layer = by_type.get(PARAMS_LAYER)
    if layer is None:
        return {}
    try:
        params = json.loads(blob_path(store, layer["digest"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return params if isinstance(params, dict) else {}


def gguf_link(model: OllamaModel, cache_dir: Path) -> Path:
    """`<cache_dir>/ollama/<name>-<tag>.gguf`, a symlink to the blob (re-pointed when `ollama pull` changed it)."""
    folder = cache_dir / "ollama"
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = "_".join(
        part for part in model.ref.manifest_parts[:-1] if part not in (DEFAULT_HOST, DEFAULT_NAMESPACE)
    )
    link = folder / f"{safe_name}-{model.ref.tag}.gguf"
    blob = model.blob.absolute()
    if link.is_symlink() and Path(os.readlink(link)) == blob:
        return link
    staging = link.with_name(f".{link.name}.{os.getpid()}")
    staging.unlink(missing_ok=True)
    staging.symlink_to(blob)
    os.replace(staging, link)  # atomic: a reader sees the old link or the new one
    return link


def default_params(params: dict) -> dict:
    """The params layer's values that are llmchat default_params (temperature, top_p, repetition_penalty,
    max_tokens from a positive num_predict)."""
    chosen = {ours: params[theirs] for theirs, ours in PARAM_NAMES.items() if theirs in params}
    if isinstance(params.get("num_predict"), int) and params["num_predict"] > 0:
        chosen["max_tokens"] = params["num_predict"]
    return chosen


def context_length(params: dict) -> int | None:
    value = params.get("num_ctx")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 16 else None


def list_models(store: Path | None = None) -> list[OllamaModel]:
    """Every model in the store with a readable manifest and its blob present, by name."""
    store = store or store_dir()
    found = []
    for manifest in sorted((store / "manifests").glob("*/*/*/*")):
        if not manifest.is_file():
            continue
        host, namespace, name, tag = manifest.relative_to(store / "manifests").parts
        try:
            found.append(_read_manifest(OllamaRef(name, tag, namespace, host), store, manifest))
        except SourceUnavailable:
            continue
    return sorted(found, key=lambda model: str(model.ref))
