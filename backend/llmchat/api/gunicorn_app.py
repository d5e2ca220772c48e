"""gunicorn's BaseApplication around the app factory, configured from configs/gunicorn.conf.py, and the metrics
folder of prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): every worker process writes its
metrics there and /metrics adds them up. It must be set before prometheus_client is first imported (the mode is
chosen at import) and be empty at start: `prepare_metrics_dir()` runs first thing in `llmchat serve`."""

from __future__ import annotations

import glob
import os
import runpy
import shutil
import tempfile
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
        self.cfg.set("child_exit", _worker_exited)
        self.cfg.set("worker_exit", _stop_jobs)

    def load(self):
        from llmchat.api.app import create_app
        from llmchat.api.limits import generation_cap

        # generations may take most of this process's threads, never all of them
        limits = self.app_config.limits
        limits = replace(limits, max_concurrent_generations=generation_cap(limits, self.cfg.threads))
        return create_app(replace(self.app_config, limits=limits))


METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir() -> str:
    """The operator's PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's files, or a new temporary folder;
    set in the environment, which gunicorn's workers inherit. Returns the folder."""
    folder = os.environ.get(METRICS_DIR)
    if folder:
        os.makedirs(folder, exist_ok=True)
        for stale in glob.glob(os.path.join(folder, "*.db")):
            os.remove(stale)
    else:
        folder = tempfile.mkdtemp(prefix="llmchat-metrics-")
        os.environ[METRICS_DIR] = folder
        os.environ["LLMCHAT_OWN_METRICS_DIR"] = "1"  # ours to remove at exit
    return folder


def remove_own_metrics_dir() -> None:
    if os.environ.get("LLMCHAT_OWN_METRICS_DIR") == "1" and os.environ.get(METRICS_DIR):
        shutil.rmtree(os.environ[METRICS_DIR], ignore_errors=True)


def _worker_exited(_server, worker) -> None:
    """A worker that died or was replaced hands back its live gauges (streams it was serving)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _stop_jobs(_server, worker) -> None:
    """A worker shutting down (Ctrl-C, a restart) stops the replies it is writing, so they are saved `stopped` at
    once instead of being found dead after `replies.stale_after_s`."""
    from llmchat.api.app import stop_jobs

    stop_jobs(worker.wsgi)


def read_settings(path: Path | None) -> dict[str, Any]:
    """The gunicorn.conf.py variables (workers, threads, timeout, ...), without its imports and helpers."""
    path = path or config_dir() / "gunicorn.conf.py"
    if not path.exists():
        return {}
    return {k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith("_")}


def run_gunicorn(config: AppConfig, settings_path: Path | None = None) -> None:
    settings = read_settings(settings_path)
    settings["bind"] = f"{config.host}:{config.port}"
    try:
        LlmchatApplication(config, settings).run()
    finally:
        remove_own_metrics_dir()
