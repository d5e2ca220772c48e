"""Run the real chat API for tests: werkzeug's threaded server in a thread, or `llmchat serve` (gunicorn)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.servers import free_port, run_server, worker_env


@dataclass
class ApiServer:
    url: str
    app: Any = None
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path else ""


def from_address(url: str, address: str, timeout: float = 30) -> httpx.Client:
    """An HTTP client whose connections come from `address` (any 127.x: the API sees a different client IP)."""
    return httpx.Client(base_url=url, timeout=timeout, transport=httpx.HTTPTransport(local_address=address))


def api_config(database_url: str, worker_urls: list[str], **overrides: Any):
    """An AppConfig for tests: no rate limit unless asked, short caches, given database and workers, first-line
    titles unless asked (a random tiny model writes random titles)."""
    from llmchat.api.config import AppConfig, Limits, TitleSettings

    limits = overrides.pop("limits", Limits(rate_limit_requests=0))
    titles = overrides.pop("titles", TitleSettings(source="first_line"))
    return replace(
        AppConfig(),
        database_url=database_url,
        worker_urls=tuple(worker_urls),
        limits=limits,
        titles=titles,
        health_cache_s=0.5,
        models_cache_s=1.0,
        log_level="WARNING",
        **overrides,
    )


def postgres_server_url() -> str:
    """LLMCHAT_TEST_DATABASE_URL, the PostgreSQL server of the PostgreSQL variants (.ci/run starts one). Without it
    they skip, unless LLMCHAT_REQUIRE_POSTGRES=1 (set by .ci/run, like LLMCHAT_REQUIRE_REDIS): then they fail."""
    url = os.environ.get("LLMCHAT_TEST_DATABASE_URL", "")
    if url:
        return url
    reason = "LLMCHAT_TEST_DATABASE_URL is unset (postgresql+psycopg://...): the PostgreSQL variants cannot run"
    if os.environ.get("LLMCHAT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"LLMCHAT_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL of `server_url`, dropped afterwards (tests never share rows)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"llmchat_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def start_api(config, host: str = "127.0.0.1") -> Iterator[ApiServer]:
    """The app of `config` on a free port of `host`; 127.0.0.1 accepts clients from any 127.x source address."""
    from werkzeug.serving import make_server

    from llmchat.api.app import close_app, create_app

    app = create_app(config)
    server = make_server(host, 0, app, threaded=True)
    # serve_forever looks for shutdown() every poll_interval (0.5 s by default): every test's teardown waited for it
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="api-server", daemon=True
    )
    thread.start()
    try:
        yield ApiServer(url=f"http://{host}:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        close_app(app)


@contextlib.contextmanager
def start_serve_process(
    config_data: dict[str, Any],
    timeout: float = 60.0,
    threads: int = 8,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[ApiServer]:
    """`llmchat serve` (gunicorn, gthread, `workers` processes of `threads` threads) as a subprocess with an app.yaml
    from `config_data`; `env` on top of the test environment (e.g. LLMCHAT_DATA_DIR)."""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="llmchat-api-"))
    config_path = folder / "app.yaml"
    # first-line titles unless the test asks (a random tiny model writes random titles)
    data = {"titles": {"source": "first_line"}, **config_data, "port": port, "host": "127.0.0.1"}
    config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "llmchat.cli", "serve", "--config", str(config_path)]
    environment = worker_env(
        {"LLMCHAT_GUNICORN_THREADS": str(threads), "LLMCHAT_GUNICORN_WORKERS": str(workers), **(env or {})}
    )
    with run_server(command, url, "/api/health", environment, timeout, "llmchat-api-") as (process, log_path):
        yield ApiServer(url=url, process=process, log_path=log_path)
