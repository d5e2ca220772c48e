"""The soak (bench/soak.py), short: 16 users from 16 addresses for 30 s against `llmchat serve` (gunicorn) and a
real worker with the tiny model, on SQLite and (with LLMCHAT_TEST_DATABASE_URL) PostgreSQL. No 5xx, nothing lost or
misplaced, nothing left streaming; and the checks themselves notice a reply that is not what the API said, a
conversation under the wrong user, and a stuck stream.
"""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import create_engine, text

from bench.soak import parse_args, print_report, soak
from bench.soak_checks import check_database, check_through_api
from bench.soak_stack import start_stack
from tests.support.api_server import postgres_server_url

# every kind of request the simulated users make (an action whose precondition never came up falls back to a chat)
ENDPOINTS = {
    "POST /api/chat",
    "POST /api/chat (stream)",
    "POST /api/conversations/{id}/regenerate (stream)",
    "POST /api/conversations/{id}/regenerate",
    "PUT /api/conversations/{id}/current",
    "GET /api/conversations",
    "GET /api/conversations/{id}",
    "GET /api/search",
    "DELETE /api/conversations/{id}",
    "PATCH /api/conversations/{id}",
}


@pytest.mark.slow  # 30 s of load on each database, by design
@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_soak_16_users_for_30_seconds(worker, database, capsys):
    arguments = [
        "--model",
        "tiny",
        "--worker-url",
        worker.url,
        "--models",
        "tiny-chat,tiny-fewshot",
        "--users",
        "16",
        "--seconds",
        "30",
    ]
    if database == "postgresql":
        arguments += ["--postgres", postgres_server_url()]
    options = parse_args(arguments)
    with start_stack(options.model, options.worker_url, options.models, options.postgres) as stack:
        report = soak(stack.api.url, stack.models, options, stack.database_url)
        with capsys.disabled():
            print_report(report, options)
        assert report.ok, "\n".join(report.failures)
        assert report.log.server_errors() == 0
        assert report.log.total() > 300 and set(report.log.statuses) >= ENDPOINTS
        assert any("continue" in endpoint for endpoint in report.log.statuses)
        assert any("another user's" in endpoint for endpoint in report.log.statuses)
        assert report.verified["exchanges (complete)"] > 100 and report.verified["deleted conversations gone"] > 0

        # the checks are not vacuous: each kind of damage is reported
        ledgers = [copy.deepcopy(ledger) for ledger in report.ledgers[:2]]
        exchange = next(e for e in ledgers[0].exchanges.values() if e.answered)
        exchange.reply = exchange.reply + " (not what was stored)"
        stolen = ledgers[1].kept()[0]
        ledgers[0].conversations[stolen] = True
        problems, _ = check_through_api(stack.api.url, ledgers)
        assert any(f"reply {exchange.reply_id} was answered" in p for p in problems), problems
        assert any(stolen in p and "not listed" in p for p in problems), problems

        engine = create_engine(stack.database_url)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE messages SET status = 'streaming' WHERE id = :id"), {"id": exchange.reply_id}
            )
        engine.dispose()
        problems, _ = check_database(stack.database_url, ledgers)
        assert "database: 1 messages left streaming" in problems
        assert any(stolen in p and "belongs to 127.0.0.11" in p for p in problems), problems
