"""The fast tier: the chat API's handlers through Flask's test client, with a fake model client (tests/support/
fake_model.py) in place of the HTTP one, and a fresh SQLite database per test. No worker, no server, no socket: each
test takes milliseconds. The end-to-end suite (tests/api) runs the same routes on real servers and a real model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.api_server import api_config
from tests.support.fake_model import FAKE_URL, FakeModelClient


@pytest.fixture
def model() -> FakeModelClient:
    return FakeModelClient()


@pytest.fixture
def make_app(tmp_path, model, fresh_sqlite) -> Callable[..., Flask]:
    """`make_app(**config_overrides)`: an app on its own database, answered by `model`; closed after the test."""
    from llmchat.api.app import close_app, create_app

    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        database = fresh_sqlite(tmp_path / f"api-{len(apps)}.db")
        app = create_app(api_config(database, [FAKE_URL], **overrides), model_client=model)
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()
