"""A fresh database per test: SQLite always, PostgreSQL too when LLMCHAT_TEST_DATABASE_URL is set
(LLMCHAT_REQUIRE_POSTGRES=1: it must be)."""

from __future__ import annotations

import pytest

from llmchat.store import ChatStore, open_database
from tests.support.api_server import fresh_postgres_database, postgres_server_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with fresh_postgres_database(postgres_server_url()) as url:
        yield url


@pytest.fixture
def database(database_url):
    db = open_database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def store(database):
    return ChatStore(database)
