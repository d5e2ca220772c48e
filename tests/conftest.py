"""Shared fixtures: offline, few threads, and tiny models built once per test session."""

from __future__ import annotations

import os
import socketserver
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

# before anything imports torch/transformers: no downloads, and do not fight the other processes for CPU cores
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A random-initialised 2-layer Llama HF folder with an offline tokenizer and a chat template."""
    from tests.support.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_lora_paths(tiny_model_path, tmp_path_factory) -> tuple[Path, Path]:
    """Two different LoRA adapters on the tiny model."""
    from tests.support.tiny_model import make_tiny_lora

    root = tmp_path_factory.mktemp("lora")
    return (
        make_tiny_lora(tiny_model_path, root / "lora-a", seed=1),
        make_tiny_lora(tiny_model_path, root / "lora-b", seed=2),
    )


@pytest.fixture(scope="session")
def fresh_sqlite(tmp_path_factory) -> Callable[[Path], str]:
    """`fresh_sqlite(path)`: the URL of a new SQLite database at `path`, already at the newest schema. The schema is
    migrated once per session and copied: an app on a fresh file would run every migration (a third of a second,
    for each of the hundreds of apps the API tests start). The migrations themselves: tests/store."""
    from llmchat.store import open_database

    template = tmp_path_factory.mktemp("schema") / "migrated.db"
    open_database(f"sqlite:///{template}").dispose()

    def copy(path: Path) -> str:
        with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
            source.backup(target)
        return f"sqlite:///{path}"

    return copy


# The test tiers (pyproject.toml registers the markers; `make test-fast` runs what is neither):
# - integration: starts real servers or processes (a worker, the API on a socket, gunicorn, Chromium, a CLI);
# - slow: takes more than about 10 s on CI's two cores.
# A test that uses one of these fixtures starts servers through it; tests that start one in their own body carry
# the marker themselves. `pytest_runtest_protocol` below fails any test that starts a server without the marker, so
# the fast tier can never quietly grow an end-to-end test.
SERVER_FIXTURES = frozenset(
    {
        "worker",  # tests/api, tests/worker, tests/training, tests/e2e: a worker subprocess
        "api",  # tests/api: the chat API on a socket
        "own_worker",  # tests/api/test_faults.py
        "long_worker",  # tests/api/test_nothing_lost.py
        "smollm2_worker",  # tests/worker/test_smollm2_slow.py
        "dist",  # tests/e2e: a vite build
    }
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Outside `integration` tests, starting a server process or a socket server (in a fixture of any scope, or in
    the test itself) is an error that names the fix."""
    if item.get_closest_marker("integration") is not None:
        yield
        return

    def refuse(*_args, **_kwargs):
        pytest.fail(f"{item.nodeid} starts a server: mark it @pytest.mark.integration (see tests/conftest.py)")

    from tests.support import api_server, servers

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(servers, "run_server", refuse)  # every server subprocess (worker, gunicorn, redis, ...)
        patch.setattr(api_server, "run_server", refuse)
        patch.setattr(socketserver.TCPServer, "__init__", refuse)  # werkzeug's and http.server's socket servers
        yield
