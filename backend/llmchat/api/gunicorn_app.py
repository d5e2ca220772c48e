"""gunicorn's BaseApplication around the app factory, configured from configs/gunicorn.conf.py."""

from __future__ import annotations

import runpy
from dataclasses import replace
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from llmchat.api.config import AppConfig
from llmchat.paths import config_dir


class LlmchatApplication(BaseApplication):
    def __init__(self, config: AppConfig, settings: dict[str, Any]):
        self.app_config = config
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self):
        from llmchat.api.app import create_app
        from llmchat.api.limits import generation_cap

        # generations may take most of this process's threads, never all of them
        limits = self.app_config.limits
        limits = replace(limits, max_concurrent_generations=generation_cap(limits, self.cfg.threads))
        return create_app(replace(self.app_config, limits=limits))


def read_settings(path: Path | None) -> dict[str, Any]:
    """The gunicorn.conf.py variables (workers, threads, timeout, ...), without its imports and helpers."""
    path = path or config_dir() / "gunicorn.conf.py"
    if not path.exists():
        return {}
    return {k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith("_")}


def run_gunicorn(config: AppConfig, settings_path: Path | None = None) -> None:
    settings = read_settings(settings_path)
    settings["bind"] = f"{config.host}:{config.port}"
    LlmchatApplication(config, settings).run()
