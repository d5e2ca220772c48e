"""A fresh database per test: SQLite always, PostgreSQL too when LLMCHAT_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os

import pytest

from llmchat.store import ChatStore, open_database
from tests.support.api_server import fresh_postgres_database

POSTGRES_URL = os.environ.get("LLMCHAT_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("set LLMCHAT_TEST_DATABASE_URL=postgresql+psycopg://... to run the PostgreSQL variant")
    with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def database(database_url):
    db = open_database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def store(database):
    return ChatStore(database)
