"""The registry: the config file's models plus the ones discovered under models/, re-scanned on demand."""

from __future__ import annotations

import threading
from pathlib import Path

from llmchat.models.config_file import read_config
from llmchat.models.discovery import discover
from llmchat.models.specs import ConfigError, ModelSpec, UnknownModelError
from llmchat.paths import config_dir
from llmchat.paths import models_dir as default_models_dir

__all__ = ["ConfigError", "ModelSpec", "Registry", "UnknownModelError", "default_config_path", "load_registry"]


def default_config_path() -> Path:
    return config_dir() / "models.yaml"


class Registry:
    """Config entries are fixed at start-up; discovered ones change when `rescan()` runs."""

    def __init__(
        self, config_path: Path, models_dir: Path, configured: list[ModelSpec], worker_section: dict | None = None
    ):
        self.config_path = config_path
        self.models_dir = models_dir
        self.worker_section = dict(worker_section or {})  # the `worker:` mapping of models.yaml, as written
        self._configured = list(configured)
        self._discovered: list[ModelSpec] = []
        self._lock = threading.Lock()
        self.rescan()

    def rescan(self) -> list[str]:
        """Look at models/adapters and models/runs again; returns the ids that are new since the last scan."""
        found = discover(self.models_dir, self._configured)
        with self._lock:
            before = {spec.id for spec in self._discovered}
            self._discovered = found
        return [spec.id for spec in found if spec.id not in before]

    def specs(self) -> list[ModelSpec]:
        with self._lock:
            return [*self._configured, *self._discovered]

    def configured(self) -> list[ModelSpec]:
        return list(self._configured)

    def find(self, model_id: str) -> ModelSpec | None:
        return next((spec for spec in self.specs() if spec.id == model_id), None)

    def get(self, model_id: str) -> ModelSpec:
        spec = self.find(model_id)
        if spec is None:
            known = ", ".join(spec.id for spec in self.specs()) or "none"
            raise UnknownModelError(f"unknown model {model_id!r} (known: {known})")
        return spec

    def get_or_rescan(self, model_id: str) -> ModelSpec:
        """An unknown id may be a run that finished after the last scan: look once more before giving up."""
        if self.find(model_id) is None:
            self.rescan()
        return self.get(model_id)

    def base_of(self, spec: ModelSpec) -> ModelSpec:
        """The spec whose weights are loaded for `spec` (itself unless it is a lora entry)."""
        return self.get(spec.base) if spec.kind == "lora" else spec


def load_registry(config_path: Path | None = None, models_dir: Path | None = None) -> Registry:
    """Read configs/models.yaml (or `config_path`) and scan `models_dir` (default models/). Raises ConfigError."""
    path = Path(config_path) if config_path else default_config_path()
    folder = Path(models_dir) if models_dir else default_models_dir()
    config = read_config(path, folder)
    return Registry(path, folder, config.specs, config.worker)
