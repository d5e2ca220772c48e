"""The rate limit (Flask-Limiter) on real processes: one budget per client across every generating route, and
with `redis://` storage across several API processes."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from llmchat.api.config import Limits
from llmchat.api.limits import ApiLimits
from llmchat.store import UsageStore, open_database
from tests.support.api_server import from_address, start_serve_process
from tests.support.redis_server import redis_url
from tests.support.slow_upstream import start_slow_upstream

QUICK = {"max_tokens": 1}


def ask(http, message: str = "hi"):
    return http.post("/api/chat", json={"message": message, "model": "slow", "params": QUICK})


@pytest.mark.integration
def test_two_api_processes_share_one_budget_through_redis(tmp_path):
    with redis_url() as storage, start_slow_upstream() as upstream:
        config = {
            "database_url": f"sqlite:///{tmp_path / 'shared.db'}",
            "worker_urls": [upstream],
            "limits": {"rate_limit_requests": 3, "rate_limit_window_s": 60, "rate_limit_storage": storage},
        }
        with (
            start_serve_process(config) as first,
            start_serve_process(config) as second,
            from_address(first.url, "127.0.0.51") as a1,
            from_address(second.url, "127.0.0.51") as a2,
            from_address(second.url, "127.0.0.52") as b2,
        ):
            conversation = ask(a1).json()["conversation_id"]
            assert ask(a2).status_code == 200
            # regenerate spends the same budget as chat
            assert a1.post(f"/api/conversations/{conversation}/regenerate", json={"params": QUICK}).status_code == 200
            for client in (a2, a1):  # the fourth request, whichever process gets it
                limited = ask(client)
                assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
                assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert ask(b2).status_code == 200  # another client has its own budget
            assert a2.get("/api/conversations").status_code == 200  # reading is not limited
        assert "refused 127.0.0.51 POST /api/chat: 429 rate_limited" in second.log()


def test_an_unreachable_rate_limit_storage_stops_the_start(tmp_path):
    limits = Limits(rate_limit_requests=3, rate_limit_storage="redis://127.0.0.1:9/0")
    usage = UsageStore(open_database(f"sqlite:///{tmp_path / 'usage.db'}"))
    with pytest.raises(RuntimeError, match="does not answer"):
        ApiLimits(limits, usage, Blueprint("signin", __name__), "10 per minute", app=Flask("t"))
