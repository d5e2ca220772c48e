"""The attacks of the hardening issue, against `llmchat serve` (gunicorn, 8 threads) as a real process.

Clients are real sockets from loopback addresses (127.0.0.x); the model server is tests/support/slow_upstream.py,
so a test decides how long a generation lasts (a reply of N pieces takes N × 0.1 s). Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api_server import ApiServer, from_address, start_serve_process
from tests.support.slow_upstream import start_slow_upstream
from tests.support.sse import iter_sse
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

QUICK = {"max_tokens": 1}
LONG = {"max_tokens": 600}  # a minute of pieces: still running when the test looks


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with start_slow_upstream() as url:
        yield url


@contextlib.contextmanager
def serve(tmp_path: Path, upstream: str, **config: Any) -> Iterator[ApiServer]:
    limits = {"rate_limit_requests": 0, **config.pop("limits", {})}
    data = {
        "database_url": f"sqlite:///{tmp_path / 'attacks.db'}",
        "worker_urls": [upstream],
        "log_level": "INFO",
        "health_cache_s": 0.5,
        "models_cache_s": 1.0,
        "limits": limits,
        **config,
    }
    with start_serve_process(data) as api:
        yield api


def chat(http: httpx.Client, message: str, headers: dict | None = None) -> dict:
    response = http.post("/api/chat", json={"message": message, "model": "slow", "params": QUICK}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def titles(http: httpx.Client, headers: dict | None = None) -> list[str]:
    response = http.get("/api/conversations", headers=headers)
    assert response.status_code == 200, response.text
    return [c["title"] for c in response.json()["conversations"]]


def assert_cannot_touch(http: httpx.Client, conversation_id: str, headers: dict) -> None:
    assert titles(http, headers) == []
    for method, path, body in [
        ("GET", f"/api/conversations/{conversation_id}", None),
        ("GET", f"/api/conversations/{conversation_id}/export", None),
        ("PATCH", f"/api/conversations/{conversation_id}", {"title": "mine now"}),
        ("DELETE", f"/api/conversations/{conversation_id}", None),
    ]:
        response = http.request(method, path, json=body, headers=headers)
        assert response.status_code == 404, (method, path, headers, response.text)


# 1. identity behind a proxy ----------------------------------------------------------------------------------


def test_a_client_inside_a_trusted_network_cannot_claim_another_address(tmp_path, upstream):
    # the configuration of the report: the whole loopback /8 trusted, as the docs once suggested 10.0.0.0/8
    with (
        serve(tmp_path, upstream, trusted_proxies=["127.0.0.0/8"]) as api,
        from_address(api.url, "127.0.0.5") as victim,
        from_address(api.url, "127.0.0.6") as attacker,
        from_address(api.url, "127.0.0.1") as proxy,
    ):
        secret = chat(victim, "the victim's secret")["conversation_id"]
        # directly, claiming the victim's address
        assert_cannot_touch(attacker, secret, {"X-Forwarded-For": "127.0.0.5"})
        assert_cannot_touch(attacker, secret, {"X-Forwarded-For": "::ffff:127.0.0.5"})
        # through the proxy, which appends the attacker's real address to what the attacker wrote
        assert_cannot_touch(proxy, secret, {"X-Forwarded-For": "127.0.0.5, 127.0.0.6"})
        stored = victim.get(f"/api/conversations/{secret}").json()
        assert stored["title"] == "the victim's secret" and len(stored["messages"]) == 2
        log = api.log()
    assert "trusted_proxies lists 127.0.0.0/8, wider than a /24" in log


def test_a_named_proxy_forwards_its_clients_and_the_access_log_shows_who(tmp_path, upstream):
    with (
        serve(tmp_path, upstream, trusted_proxies=["127.0.0.4"]) as api,
        from_address(api.url, "127.0.0.5") as carol,
        from_address(api.url, "127.0.0.4") as proxy,
    ):
        mine = chat(carol, "carol's notes")["conversation_id"]
        # one client, however the proxy spells the address: IPv4-mapped IPv6 used to be a second identity
        assert titles(proxy, {"X-Forwarded-For": "::ffff:127.0.0.5"}) == ["carol's notes"]
        # a client (127.0.0.9) that writes carol's address in front of the proxy's hop stays itself
        assert_cannot_touch(proxy, mine, {"X-Forwarded-For": "127.0.0.5, 127.0.0.9"})
        log = api.log()
    lines = log.splitlines()  # gunicorn's access log: the peer, then the client the app resolved
    assert any(line.startswith("127.0.0.4 127.0.0.9 ") for line in lines)
    assert any(line.startswith("127.0.0.4 127.0.0.5 ") for line in lines)


# 2. cross-site requests ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(upstream, tmp_path_factory) -> Iterator[ApiServer]:
    with serve(tmp_path_factory.mktemp("cross-site"), upstream, limits={"max_tokens": 100}) as running:
        yield running


def test_a_page_elsewhere_cannot_post_through_the_visitors_browser(api):
    body = '{"message": "planted", "model": "slow", "params": {"max_tokens": 1}}'
    with from_address(api.url, "127.0.0.31") as visitor:
        # what a <form> or fetch(..., {mode: "no-cors"}) can send without a CORS preflight
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            response = visitor.post("/api/chat", content=body, headers={"Content-Type": content_type})
            assert response.status_code == 415, (content_type, response.text)
            assert response.json()["error"]["code"] == "unsupported_media_type"
        assert visitor.post("/api/chat", content=body).status_code == 415  # no Content-Type at all
        # JSON sent from another site's page: the browser says where the page is
        evil = {"Origin": "http://evil.example"}
        response = visitor.post("/api/chat", content=body, headers={"Content-Type": "application/json", **evil})
        assert response.status_code == 403 and response.json()["error"]["code"] == "cross_origin"
        assert titles(visitor) == []  # nothing was planted
        # the web app itself (same origin) and tools without an Origin (curl) are served
        own = chat(visitor, "from the app", {"Origin": api.url})["conversation_id"]
        for method, extra in (("PATCH", {"json": {"title": "renamed"}}), ("DELETE", {})):
            response = visitor.request(method, f"/api/conversations/{own}", headers=evil, **extra)
            assert response.status_code == 403, (method, response.text)
        assert titles(visitor) == ["from the app"]
    log = api.log()
    assert "refused 127.0.0.31 POST /api/chat: 415 unsupported_media_type" in log
    assert "refused 127.0.0.31 PATCH /api/conversations/" in log and "403 cross_origin" in log


def test_a_host_that_is_not_ours_is_refused(api):
    with from_address(api.url, "127.0.0.32") as client:
        for path in ("/api/conversations", "/api/health", "/"):
            response = client.get(path, headers={"Host": "evil.example"})  # DNS rebinding: evil.example -> 127.0.0.1
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"]["code"] == "host_not_allowed"
        for host in (api.url.removeprefix("http://"), "localhost", "[::1]:80"):
            assert client.get("/api/conversations", headers={"Host": host}).status_code == 200, host
    assert "refused 127.0.0.32 GET /api/health: 400 host_not_allowed" in api.log()


def test_every_response_carries_the_security_headers(api):
    with from_address(api.url, "127.0.0.33") as client:
        responses = [
            client.get("/"),
            client.get("/api/health"),
            client.get("/api/nowhere"),
            client.post("/api/chat", content="x", headers={"Content-Type": "text/plain"}),
        ]
    for response in responses:
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", response.url
        assert headers["Referrer-Policy"] == "no-referrer"
        policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"
        assert "unsafe" not in headers["Content-Security-Policy"]


def test_max_tokens_has_a_ceiling_on_the_server(api):
    with from_address(api.url, "127.0.0.34") as client:
        response = client.post(
            "/api/chat", json={"message": "write a book", "model": "slow", "params": {"max_tokens": 101}}
        )
        assert response.status_code == 400 and response.json()["error"]["field"] == "params.max_tokens"
        assert (
            client.post("/api/chat", json={"message": "ok", "model": "slow", "params": {"max_tokens": 100}}).status_code
            == 200
        )


def test_cors_answers_only_for_the_listed_origins(tmp_path, upstream):
    allowed = "http://app.example.test:8080"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with serve(tmp_path, upstream, cors_origins=[allowed]) as api, from_address(api.url, "127.0.0.35") as client:
        answer = client.options("/api/chat", headers={"Origin": allowed, **preflight})
        assert answer.headers.get("Access-Control-Allow-Origin") == allowed
        assert "POST" in answer.headers.get("Access-Control-Allow-Methods", "")
        other = client.options("/api/chat", headers={"Origin": "http://evil.example", **preflight})
        assert "Access-Control-Allow-Origin" not in other.headers
        posted = client.post(
            "/api/chat",
            json={"message": "from the other host", "model": "slow", "params": QUICK},
            headers={"Origin": allowed},
        )
        assert posted.status_code == 200 and posted.headers["Access-Control-Allow-Origin"] == allowed
        assert (
            client.post(
                "/api/chat", json={"message": "x", "model": "slow"}, headers={"Origin": "http://evil.example"}
            ).status_code
            == 403
        )


# 3. starvation ---------------------------------------------------------------------------------------------------


def open_stream(http: httpx.Client) -> httpx.Response:
    """A long streamed reply, open once its `start` event is on the way (the slot is held from here on)."""
    request = http.build_request(
        "POST", "/api/chat", json={"message": "go on forever", "model": "slow", "stream": True, "params": LONG}
    )
    return http.send(request, stream=True)


def upstream_streams(upstream: str) -> int:
    return httpx.get(f"{upstream}/stats", timeout=5).json()["open_streams"]


def test_one_client_cannot_take_every_generation_and_the_api_stays_responsive(tmp_path, upstream):
    # 8 gunicorn threads: at most 6 generations (2 threads always free), at most 2 per client
    addresses = ["127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44"]
    with serve(tmp_path, upstream, limits={"max_concurrent_per_ip": 2}) as api, contextlib.ExitStack() as stack:
        clients = {a: stack.enter_context(from_address(api.url, a)) for a in addresses}
        streams = []
        for address in addresses[:3]:
            for _ in range(2):
                response = stack.enter_context(contextlib.closing(open_stream(clients[address])))
                assert response.status_code == 200, response.read()
                streams.append((address, response))
        assert wait_for(lambda: upstream_streams(upstream) >= 6, timeout=15)

        # a third stream of the same client: refused at once, with a time to come back
        started = time.monotonic()
        mine = open_stream(clients["127.0.0.41"])
        mine.read()
        assert mine.status_code == 429 and mine.json()["error"]["code"] == "too_many_generations"
        assert int(mine.headers["Retry-After"]) > 0
        # another client, when the server is at its cap: 503 at once, never a queue for a thread
        busy = open_stream(clients["127.0.0.44"])
        busy.read()
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "server_busy"
        assert "Retry-After" in busy.headers and time.monotonic() - started < 5
        # everything that is not a generation still finds a thread
        for path in ("/api/health", "/api/conversations", "/api/models"):
            quick = time.monotonic()
            assert clients["127.0.0.44"].get(path, timeout=5).status_code == 200, path
            assert time.monotonic() - quick < 5, path

        # the first client's replies are jobs: its browser going away does not end them, Stop does (and frees
        # their slots and their upstream streams)
        for _address, response in streams[:2]:
            start = next(data for name, data in iter_sse(response.iter_lines()) if name == "start")
            response.close()
            stopped = clients["127.0.0.41"].post(f"/api/messages/{start['message']['id']}/stop", json={})
            assert stopped.json()["message"]["status"] == "stopped", stopped.text
        clients["127.0.0.41"].close()
        wait_for(lambda: upstream_streams(upstream) <= 4, timeout=15)
        retried = wait_for(lambda: _accepted(open_stream(clients["127.0.0.44"])), timeout=15)
        retried.close()
        log = api.log()
    assert "refused 127.0.0.41 POST /api/chat: 429 too_many_generations" in log
    assert "refused 127.0.0.44 POST /api/chat: 503 server_busy" in log


def _accepted(response: httpx.Response) -> httpx.Response | None:
    if response.status_code == 200:
        return response
    response.read()
    response.close()
    return None
