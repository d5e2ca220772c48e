"""The real stack a soak runs against: `llmchat worker` and `llmchat serve` (gunicorn, gthread) on SQLite in a
temporary folder (or a new database on a PostgreSQL server), started with the test launchers (tests/support), and
configured as shipped (configs/app.yaml: rate limit, generation caps and model-written titles as a user gets them).

Models: `smollm2` is the prepared SmolLM2-135M-Instruct of configs/models.yaml (chat and few-shot base, one copy of
the weights); `tiny` is a random 2-layer model built in the temporary folder (tests/support/tiny_model.py), fast
enough for `make test`.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.api_server import ApiServer, fresh_postgres_database, start_serve_process
from tests.support.servers import PROJECT_ROOT, WorkerProcess, start_worker

MODELS = {"smollm2": ["smollm2-chat", "smollm2-base"], "tiny": ["tiny-chat", "tiny-base"]}
API_THREADS = 32  # configs/gunicorn.conf.py's default


@dataclass
class Stack:
    api: ApiServer
    worker_url: str
    database_url: str
    models: list[str]


def app_settings(database_url: str, worker_url: str) -> dict:
    """configs/app.yaml with this run's database and worker; no web app (the soak only speaks to the API)."""
    shipped = yaml.safe_load((PROJECT_ROOT / "configs" / "app.yaml").read_text(encoding="utf-8")) or {}
    return {
        **shipped,
        "database_url": database_url,
        "worker_urls": [worker_url],
        "frontend_dist": str(PROJECT_ROOT / "no-frontend"),
        "log_level": "WARNING",
    }


def tiny_models_yaml(folder: Path) -> Path:
    from tests.support.tiny_model import make_tiny_model, write_models_yaml

    model = make_tiny_model(folder / "tiny", max_position_embeddings=2048)  # Continue makes replies grow
    params = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 32}
    entries = [
        {
            "id": f"tiny-{name}",
            "kind": kind,
            "source": str(model),
            "prompt_style": style,
            "context_length": 2048,
            "default_params": params,
        }
        for name, kind, style in (("chat", "chat", "chat"), ("base", "base", "fewshot"))
    ]
    return write_models_yaml(folder / "models.yaml", entries, worker={"max_batch_size": 16, "max_queue": 64})


@contextlib.contextmanager
def start_worker_for(model: str, folder: Path) -> Iterator[WorkerProcess]:
    if model == "tiny":
        with start_worker(tiny_models_yaml(folder)) as worker:
            yield worker
        return
    from llmchat.paths import models_dir

    with start_worker(
        PROJECT_ROOT / "configs" / "models.yaml",
        models_dir=models_dir(),
        env={"LLMCHAT_WORKER_THREADS": "2"},
        timeout=600,
    ) as worker:
        yield worker


@contextlib.contextmanager
def start_stack(
    model: str, worker_url: str | None = None, models: list[str] | None = None, postgres_url: str | None = None
) -> Iterator[Stack]:
    """Worker (unless `worker_url` names a running one) and API, stopped (and the temporary folder removed) when
    the block ends. The database is SQLite in that folder, or a new database on the PostgreSQL server of
    `postgres_url`, dropped afterwards."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, not {model!r}")
    with tempfile.TemporaryDirectory(prefix="llmchat-soak-") as scratch, contextlib.ExitStack() as running:
        folder = Path(scratch)
        database_url = (
            running.enter_context(fresh_postgres_database(postgres_url))
            if postgres_url
            else f"sqlite:///{folder / 'soak.db'}"
        )
        worker = None if worker_url else running.enter_context(start_worker_for(model, folder))
        url = worker_url or worker.url
        api = running.enter_context(start_serve_process(app_settings(database_url, url), threads=API_THREADS))
        yield Stack(api=api, worker_url=url, database_url=database_url, models=models or MODELS[model])
