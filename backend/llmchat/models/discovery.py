"""Finds models nobody wrote into the config file: peft adapters in models/adapters/ and finished runs in models/runs/.

A bad folder is skipped with a warning, never fatal: a half-written run must not stop the worker.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmchat.models.config_file import parse_default_params
from llmchat.models.manifest import MANIFEST
from llmchat.models.sources import source_aliases
from llmchat.models.specs import LLAMA_CPP, PROMPT_STYLES, ConfigError, ModelSpec

log = logging.getLogger("llmchat.worker")


def discover(models_dir: Path, known: list[ModelSpec]) -> list[ModelSpec]:
    """Adapters then runs; ids already taken by `known` (or by an earlier find) are skipped."""
    taken = {spec.id for spec in known}
    found: list[ModelSpec] = []
    for spec in [*_scan_adapters(models_dir, known), *_scan_runs(models_dir, known)]:
        if spec.id in taken:
            log.warning("skipping discovered model %r (%s): the id is already used", spec.id, spec.origin)
            continue
        taken.add(spec.id)
        found.append(spec)
    return found


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("skipping %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def _base_by_id(known: list[ModelSpec], base_id: Any) -> ModelSpec | None:
    """The entry a run's base_model names: its id, or its source string (a recipe's `base_model: hf:ORG/NAME`)."""
    bases = [s for s in known if s.kind != "lora"]
    return next((s for s in bases if s.id == base_id), None) or next((s for s in bases if s.source == base_id), None)


def _base_by_source(known: list[ModelSpec], base_name: str) -> ModelSpec | None:
    wanted = source_aliases(base_name, None)
    return next((s for s in known if s.kind != "lora" and wanted & source_aliases(s.source, s.models_dir)), None)


def _scan_adapters(models_dir: Path, known: list[ModelSpec]) -> list[ModelSpec]:
    specs = []
    for folder in sorted((models_dir / "adapters").glob("*/")):
        adapter_config = (
            _read_json(folder / "adapter_config.json") if (folder / "adapter_config.json").is_file() else None
        )
        if adapter_config is None:
            continue
        extra = _read_json(folder / "llmchat.json") if (folder / "llmchat.json").is_file() else {}
        extra = extra or {}
        if "base" in extra:
            base = _base_by_id(known, extra["base"])
        else:
            base = _base_by_source(known, str(adapter_config.get("base_model_name_or_path") or ""))
        if base is None:
            log.warning(
                "skipping adapter %s: no registry entry matches its base (%s); add llmchat.json "
                '{"base": "<id>"} beside it',
                folder,
                extra.get("base") or adapter_config.get("base_model_name_or_path"),
            )
            continue
        spec = _lora_spec(folder.name, base, folder, extra.get("prompt_style", "alpaca"), "adapters", extra)
        if spec is not None:
            specs.append(spec)
    return specs


def _lora_spec(
    model_id: str, base: ModelSpec, adapter: Path, style: str, origin: str, extra: dict, run_dir: Path | None = None
) -> ModelSpec | None:
    if style not in PROMPT_STYLES:
        log.warning("skipping %s: prompt_style %r is not one of %s", adapter, style, PROMPT_STYLES)
        return None
    try:
        defaults = parse_default_params(extra.get("default_params"), lambda f, p: ConfigError(f"{f}: {p}"))
    except ConfigError as exc:
        log.warning("skipping %s: %s", adapter, exc)
        return None
    return ModelSpec(
        id=str(model_id),
        kind="lora",
        prompt_style=style,
        base=base.id,
        adapter=adapter,
        context_length=base.context_length,
        dtype=base.dtype,
        device=base.device,
        engine=base.engine,
        default_params=defaults if extra.get("default_params") else base.default_params,
        origin=origin,
        models_dir=base.models_dir,
        run_dir=run_dir,
        created=_finished_at(run_dir, extra) if run_dir else None,
    )


def _scan_runs(models_dir: Path, known: list[ModelSpec]) -> list[ModelSpec]:
    specs = []
    for marker in sorted((models_dir / "runs").glob(f"*/{MANIFEST}")):
        run = _read_json(marker)
        if not run or run.get("status") != "complete":
            continue
        spec = _run_spec(marker.parent, run, known)
        if spec is not None:
            specs.append(spec)
    return specs


def _run_spec(folder: Path, run: dict[str, Any], known: list[ModelSpec]) -> ModelSpec | None:
    run_id = str(run.get("id") or folder.name)
    base = _base_by_id(known, run.get("base_model"))
    weights = folder / str(run.get("path") or ("adapter" if run.get("method") == "lora" else "model"))
    style = run.get("prompt_style", "alpaca")
    if run.get("method") == "lora" or run.get("kind") == "lora":
        if base is None:
            log.warning("skipping run %s: base_model %r is not a registry entry", folder, run.get("base_model"))
            return None
        if not (weights / "adapter_config.json").is_file():
            log.warning("skipping run %s: no adapter_config.json in %s", folder, weights)
            return None
        return _lora_spec(run_id, base, weights, style, "runs", run, run_dir=folder)
    if not (weights / "config.json").is_file() or style not in PROMPT_STYLES:
        log.warning("skipping run %s: no HF model folder at %s (or bad prompt_style %r)", folder, weights, style)
        return None
    kind = run.get("kind") if run.get("kind") in ("alpaca", "chat", "base") else "alpaca"
    return ModelSpec(
        id=run_id,
        kind=kind,
        prompt_style=style,
        source=str(weights),
        dtype=base.dtype if base else "auto",
        device=base.device if base else "auto",
        engine=base.engine if base and base.engine != LLAMA_CPP else None,  # llama.cpp reads GGUFs, a run is HF
        default_params=base.default_params if base else parse_default_params(None, None),
        origin="runs",
        models_dir=base.models_dir if base else None,
        run_dir=folder,
        created=_finished_at(folder, run),
    )


def _finished_at(run_dir: Path, run: dict[str, Any]) -> str:
    """The manifest's `created`, or (a run written before it had one) the time the manifest was written."""
    if isinstance(run.get("created"), str) and run["created"]:
        return run["created"]
    written = (run_dir / MANIFEST).stat().st_mtime
    return datetime.fromtimestamp(written, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
