"""Reads configs/models.yaml into typed specs, with errors that name the entry and the field."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from llmchat.generation import SamplingDefaults
from llmchat.models.ollama import OllamaRef, find_model
from llmchat.models.ollama import context_length as ollama_context_length
from llmchat.models.ollama import default_params as ollama_default_params
from llmchat.models.sources import SOURCE_FORMS, parse_source
from llmchat.models.specs import (
    DTYPES,
    ENGINES,
    KINDS,
    LLAMA_CPP,
    PROMPT_STYLES,
    ConfigError,
    ModelSpec,
    SourceUnavailable,
    first_problem,
)
from llmchat.models.weight_formats import WEIGHT_FORMATS
from llmchat.paths import PROJECT_ROOT

ENTRY_FIELDS = {
    "id",
    "kind",
    "source",
    "prompt_style",
    "context_length",
    "dtype",
    "device",
    "engine",
    "weight_format",
    "default_params",
    "base",
    "adapter",
    "pin",
}


@dataclass(frozen=True)
class ModelsConfig:
    """configs/models.yaml: the model entries, and the `worker:` section as written (the worker reads it)."""

    specs: list[ModelSpec]
    worker: dict[str, Any]


def entry_yaml(entry: dict[str, Any]) -> str:
    """One entry as it goes under `models:` in configs/models.yaml (what a person pastes there)."""
    unknown = set(entry) - ENTRY_FIELDS
    if unknown:
        raise ValueError(f"not fields of a models.yaml entry: {sorted(unknown)}")
    return textwrap.indent(yaml.safe_dump([entry], sort_keys=False, allow_unicode=True), "  ")


def resolve_project_path(value: str | Path) -> Path:
    """Relative paths in the config are relative to the project root, not to the current directory."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def read_config(path: Path, models_dir: Path) -> ModelsConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'models:' list")
    specs = [_parse_entry(path, index, entry, models_dir) for index, entry in enumerate(data["models"])]
    _check_ids_and_bases(path, specs)
    worker = data.get("worker") or {}
    if not isinstance(worker, dict):
        raise ConfigError(f"{path}: worker: expected a mapping")
    return ModelsConfig(specs, worker)


def _fail(path: Path, where: str, field: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: field '{field}': {problem}")


def _parse_entry(path: Path, index: int, entry: Any, models_dir: Path) -> ModelSpec:
    where = f"models[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: {where}: expected a mapping, got {type(entry).__name__}")
    if not isinstance(entry.get("id"), str) or not entry["id"].strip():
        raise _fail(path, where, "id", "required, a non-empty string")
    where = f"models[{index}] (id '{entry['id']}')"
    unknown = sorted(set(entry) - ENTRY_FIELDS)
    if unknown:
        raise _fail(path, where, unknown[0], f"unknown field (allowed: {', '.join(sorted(ENTRY_FIELDS))})")
    kind = _choice(path, where, entry, "kind", KINDS, None)
    style = _choice(path, where, entry, "prompt_style", PROMPT_STYLES, _default_style(kind))
    dtype = _choice(path, where, entry, "dtype", DTYPES, "auto")
    engine = _choice(path, where, entry, "engine", ENGINES, None) if "engine" in entry else None
    weight_format = (
        _choice(path, where, entry, "weight_format", WEIGHT_FORMATS, None) if "weight_format" in entry else None
    )
    device = str(entry.get("device", "auto"))
    if device != "auto" and device != "cpu" and not device.startswith("cuda"):
        raise _fail(path, where, "device", f"must be auto, cpu or cuda[:N], got {device!r}")
    context = entry.get("context_length")
    if context is not None and (not isinstance(context, int) or isinstance(context, bool) or context < 16):
        raise _fail(path, where, "context_length", f"must be an integer >= 16, got {context!r}")
    if not isinstance(entry.get("pin", False), bool):
        raise _fail(path, where, "pin", f"must be true or false, got {entry['pin']!r}")
    source, base, adapter = _parse_weights(path, where, entry, kind)
    if engine == LLAMA_CPP and kind == "lora":
        raise _fail(path, where, "engine", "llama.cpp takes no LoRA adapters (a merged run's folder serves on it)")

    def fail(field: str, problem: str) -> ConfigError:
        return _fail(path, where, field, problem)

    suggested_params, suggested_context = source_defaults(source, fail)
    return ModelSpec(
        id=entry["id"],
        kind=kind,
        prompt_style=style,
        source=source,
        base=base,
        adapter=adapter,
        context_length=context or suggested_context,
        dtype=dtype,
        device=device,
        engine=engine,
        weight_format=weight_format,
        default_params=parse_default_params(entry.get("default_params"), fail, suggested_params),
        pin=entry.get("pin", False),
        models_dir=models_dir,
    )


def _default_style(kind: str) -> str:
    return {"chat": "chat", "base": "fewshot", "alpaca": "alpaca", "lora": "alpaca"}[kind]


def _choice(path: Path, where: str, entry: dict, name: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = entry.get(name, default)
    if value not in allowed:
        shown = "missing" if value is None else repr(value)
        raise _fail(path, where, name, f"must be one of {', '.join(allowed)} ({shown})")
    return value


def _parse_weights(path: Path, where: str, entry: dict, kind: str) -> tuple[str | None, str | None, Path | None]:
    if kind == "lora":
        if not isinstance(entry.get("base"), str):
            raise _fail(path, where, "base", "a lora entry needs the id of its base entry")
        if not isinstance(entry.get("adapter"), str):
            raise _fail(path, where, "adapter", "a lora entry needs its adapter folder")
        adapter = resolve_project_path(entry["adapter"])
        if not (adapter / "adapter_config.json").is_file():
            raise _fail(path, where, "adapter", f"no adapter_config.json in {adapter}")
        return None, entry["base"], adapter
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(path, where, "source", f"required: {SOURCE_FORMS}")
    try:
        parsed = parse_source(source)
    except ValueError as exc:
        raise _fail(path, where, "source", f"{exc} (expected {SOURCE_FORMS})") from exc
    if not isinstance(parsed, Path):
        return source, None, None  # hub models are pulled on first use; Ollama ones are checked by source_defaults
    resolved = resolve_project_path(parsed)
    if source.endswith(".gguf") and not resolved.is_file():
        raise _fail(path, where, "source", f"GGUF file not found: {resolved}")
    if not source.endswith(".gguf") and not (resolved / "config.json").is_file():
        raise _fail(path, where, "source", f"not an HF model folder (no config.json): {resolved}")
    return str(resolved), None, None


def source_defaults(source: str | None, fail) -> tuple[dict, int | None]:
    """(default_params, context_length) that the source itself suggests: an Ollama model's params layer. An
    Ollama model that is not in the store is a config error, as a missing folder is."""
    parsed = parse_source(source) if source else None
    if not isinstance(parsed, OllamaRef):
        return {}, None
    try:
        model = find_model(parsed)
    except SourceUnavailable as exc:
        raise fail("source", str(exc)) from exc
    usable = {name: value for name, value in ollama_default_params(model.params).items() if _valid_default(name, value)}
    return usable, ollama_context_length(model.params)


def _valid_default(name: str, value: Any) -> bool:
    """A suggested value outside llmchat's limits is left out (the global default stays), not a config error."""
    try:
        SamplingDefaults.model_validate({name: value})
    except ValidationError:
        return False
    return True


def parse_default_params(value: Any, fail, suggested: dict | None = None) -> SamplingDefaults:
    """An entry's default_params over the source's suggestions (suggested) over the global defaults; each value is
    checked against generation/params.py."""
    if value is None and not suggested:
        return SamplingDefaults()
    if value is not None and not isinstance(value, dict):
        raise fail("default_params", "must be a mapping")
    try:
        return SamplingDefaults.model_validate({**(suggested or {}), **(value or {})})
    except ValidationError as exc:
        name, problem = first_problem(exc)
        raise fail(f"default_params.{name}", problem) from exc


def _check_ids_and_bases(path: Path, specs: list[ModelSpec]) -> None:
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if spec.id in seen:
            raise _fail(path, f"models[{index}] (id '{spec.id}')", "id", "duplicate id")
        seen.add(spec.id)
    by_id = {spec.id: spec for spec in specs}
    for index, spec in enumerate(specs):
        if spec.kind == "lora" and (spec.base not in by_id or by_id[spec.base].kind == "lora"):
            raise _fail(
                path, f"models[{index}] (id '{spec.id}')", "base", f"{spec.base!r} is not a non-lora entry of this file"
            )
        if spec.kind == "lora" and by_id[spec.base].engine == LLAMA_CPP:
            raise _fail(
                path,
                f"models[{index}] (id '{spec.id}')",
                "base",
                f"{spec.base!r} runs on llama.cpp, which takes no LoRA",
            )
