"""Identity modes against `llmchat serve` (gunicorn) as a real process: the attacks of the Teams issue and two
users' isolation in each mode. Clients are real sockets from loopback addresses (127.0.0.x); the model server is
tests/support/slow_upstream.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.test_attacks import assert_cannot_touch, chat, serve, titles
from tests.support.api_server import ApiServer, from_address
from tests.support.slow_upstream import start_slow_upstream

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with start_slow_upstream(delay=0.01) as url:
        yield url


def sign_up(http: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    return http.post("/api/auth/signup", json={"name": name, "password": password})


def sign_in(http: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    return http.post("/api/auth/signin", json={"name": name, "password": password})


def new_key(http: httpx.Client, name: str = "laptop") -> str:
    response = http.post("/api/keys", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["key"]


def v1_chat(http: httpx.Client, key: str | None, **extra: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"model": "slow", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, **extra}
    return http.post("/v1/chat/completions", json=body, headers=headers)


# header mode -----------------------------------------------------------------------------------------------------


def test_header_mode_believes_the_user_header_only_from_the_proxy(tmp_path, upstream):
    with (
        serve(tmp_path, upstream, identity="header", trusted_proxies=["127.0.0.2"], admin_users=["alice"]) as api,
        from_address(api.url, "127.0.0.2") as proxy,
        from_address(api.url, "127.0.0.3") as attacker,
    ):
        alice, bob = {"X-Forwarded-User": "alice"}, {"X-Forwarded-User": "bob"}
        secret = chat(proxy, "alice's plans", alice)["conversation_id"]
        # the header from anyone but the proxy, or no header at all: 401, even with the right name
        for headers in (alice, {}):
            for path in ("/api/conversations", f"/api/conversations/{secret}", "/v1/models"):
                response = attacker.get(path, headers=headers)
                assert response.status_code == 401, (path, headers, response.text)
                assert response.json()["error"]["code"] == "unauthenticated"
        assert proxy.get("/api/conversations").status_code == 401  # the proxy without a user
        # two users behind the one proxy address are two identities
        assert titles(proxy, alice) == ["alice's plans"]
        assert_cannot_touch(proxy, secret, bob)
        me = proxy.get("/api/me", headers=alice).json()
        assert (me["identity"], me["admin"], me["mode"]) == ("user:alice", True, "header")
        assert proxy.get("/api/admin/usage", headers=bob).status_code == 403
        # a key made through the proxy works from anywhere, as its owner, and only on /v1 and /api
        key = new_key(httpx.Client(base_url=api.url, headers=bob, transport=proxy._transport))
        assert v1_chat(attacker, key).status_code == 200
        assert v1_chat(attacker, key + "x").status_code == 401


# accounts mode ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def accounts_api(upstream, tmp_path_factory) -> Iterator[ApiServer]:
    config = {
        "identity": "accounts",
        "accounts": {"signup": "open", "signin_rate_limit": "5 per minute"},
        "limits": {"rate_limit_requests": 0, "tokens_per_day": 40},
    }
    with serve(tmp_path_factory.mktemp("accounts"), upstream, **config) as api:
        yield api


@pytest.fixture(scope="module")
def alice(accounts_api) -> Iterator[httpx.Client]:
    with from_address(accounts_api.url, "127.0.0.11") as http:
        response = sign_up(http, "alice")
        assert response.status_code == 201, response.text
        assert response.json()["admin"] is True  # the first account
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
        yield http


@pytest.fixture(scope="module")
def bob(accounts_api, alice) -> Iterator[httpx.Client]:
    with from_address(accounts_api.url, "127.0.0.11") as http:  # the same address as alice: a shared NAT
        response = sign_up(http, "bob")
        assert response.status_code == 201 and response.json()["admin"] is False
        yield http


def test_without_signing_in_nothing_is_served(accounts_api):
    with from_address(accounts_api.url, "127.0.0.12") as stranger:
        for method, path in (("GET", "/api/conversations"), ("POST", "/api/chat"), ("GET", "/api/usage")):
            response = stranger.request(method, path, json={"message": "x", "model": "slow"})
            assert response.status_code == 401, (path, response.text)
        assert stranger.get("/api/me").json()["identity"] is None
        assert stranger.get("/api/health").status_code == 200


def test_two_accounts_behind_one_address_are_isolated(alice, bob):
    secret = chat(alice, "alice's diary")["conversation_id"]
    assert_cannot_touch(bob, secret, {})
    assert titles(alice) == ["alice's diary"]


def test_a_cookie_replayed_after_sign_out_is_worthless(accounts_api, alice):
    with from_address(accounts_api.url, "127.0.0.13") as browser:
        assert sign_in(browser, "alice").status_code == 200
        stolen = browser.cookies.get("llmchat_session")
        assert browser.get("/api/conversations").status_code == 200
        assert browser.post("/api/auth/signout").status_code == 204
    with from_address(accounts_api.url, "127.0.0.14") as thief:
        response = thief.get("/api/conversations", cookies={"llmchat_session": stolen})
        assert response.status_code == 401
    assert alice.get("/api/conversations").status_code == 200  # her other sign-in lives on


def test_csrf_with_a_valid_cookie_is_refused(alice):
    body = '{"message": "planted", "model": "slow", "params": {"max_tokens": 1}}'
    evil = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    assert alice.post("/api/chat", content=body, headers=evil).status_code == 403
    assert (
        alice.post("/api/keys", json={"name": "planted"}, headers={"Origin": "http://evil.example"}).status_code == 403
    )
    assert alice.post("/api/chat", content=body, headers={"Content-Type": "text/plain"}).status_code == 415
    assert "planted" not in titles(alice)
    # /v1 takes keys, never the cookie
    assert v1_chat(alice, None).status_code == 401


def test_another_users_key_acts_only_as_that_user(accounts_api, alice, bob):
    bobs_key = new_key(bob, "bob's script")
    secret = chat(alice, "alice again")["conversation_id"]
    with from_address(accounts_api.url, "127.0.0.15") as script:
        headers = {"Authorization": f"Bearer {bobs_key}"}
        assert_cannot_touch(script, secret, headers)
        assert v1_chat(script, bobs_key).status_code == 200
        [key] = bob.get("/api/keys").json()["keys"]
        assert alice.delete(f"/api/keys/{key['id']}").status_code == 404  # not hers to revoke
        assert bob.delete(f"/api/keys/{key['id']}").status_code == 204
        assert v1_chat(script, bobs_key).status_code == 401
    usage = bob.get("/api/usage").json()
    assert usage["identity"] == "user:bob" and usage["usage"][0]["requests"] >= 1


def test_guessing_passwords_hits_the_rate_limit(accounts_api, alice):
    with from_address(accounts_api.url, "127.0.0.16") as guesser:
        codes = [sign_in(guesser, "alice", f"guess {n}").status_code for n in range(5)]
        assert codes == [401] * 5
        blocked = sign_in(guesser, "alice")  # even the right password, until the window passes
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    with from_address(accounts_api.url, "127.0.0.17") as elsewhere:
        assert sign_in(elsewhere, "alice").status_code == 200


def test_admins_see_counts_and_manage_users_but_never_chats(accounts_api, alice, bob):
    assert bob.get("/api/admin/users").status_code == 403
    assert bob.patch("/api/admin/users/bob", json={"role": "admin"}).status_code == 403
    users = {u["name"]: u for u in alice.get("/api/admin/users").json()["users"]}
    assert users["alice"]["role"] == "admin" and users["bob"]["role"] == "user"
    usage = alice.get("/api/admin/usage").json()
    assert {t["identity"] for t in usage["totals"]} >= {"user:alice", "user:bob"}
    assert "alice's diary" not in str(usage)
    assert alice.patch("/api/admin/users/alice", json={"status": "disabled"}).status_code == 400
    bad = alice.patch("/api/admin/users/bob", json={"role": "owner"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "role"


def test_the_token_quota_refuses_with_when_it_resets(accounts_api):
    with from_address(accounts_api.url, "127.0.0.18") as carol:
        assert sign_up(carol, "carol").status_code == 201
        for _ in range(10):
            response = v1_chat(carol, new_key(carol, "q"), max_tokens=20)
            if response.status_code == 429:
                break
            assert response.status_code == 200, response.text
        error = response.json()["error"]
        assert response.status_code == 429 and error["code"] == "quota_exceeded"
        assert "tokens_per_day" in error["message"] and response.json()["resets_at"].endswith("+00:00")
        assert chat_refused(carol).json()["error"]["code"] == "quota_exceeded"
        today = carol.get("/api/usage").json()["today"]
        assert today["tokens"] >= 40 and today["tokens_per_day"] == 40


def chat_refused(http: httpx.Client) -> httpx.Response:
    response = http.post("/api/chat", json={"message": "more", "model": "slow", "params": {"max_tokens": 1}})
    assert response.status_code == 429
    return response


def test_a_password_change_ends_the_other_sign_ins(accounts_api):
    with (
        from_address(accounts_api.url, "127.0.0.19") as laptop,
        from_address(accounts_api.url, "127.0.0.20") as phone,
    ):
        assert sign_up(laptop, "dave").status_code == 201
        assert sign_in(phone, "dave").status_code == 200
        wrong = laptop.post("/api/auth/password", json={"current_password": "nope", "new_password": "another one"})
        assert wrong.status_code == 403
        changed = laptop.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "new pass 2"})
        assert changed.status_code == 200
        assert phone.get("/api/conversations").status_code == 401
        assert laptop.get("/api/conversations").status_code == 200  # this browser got a new sign-in
        assert sign_in(phone, "dave", "new pass 2").status_code == 200


def test_approval_leaves_new_accounts_pending_until_an_admin_approves(tmp_path, upstream):
    config = {"identity": "accounts", "accounts": {"signup": "approval"}, "trusted_proxies": ["127.0.0.23"]}
    with (
        serve(tmp_path, upstream, **config) as api,
        from_address(api.url, "127.0.0.21") as admin,
        from_address(api.url, "127.0.0.22") as newcomer,
        from_address(api.url, "127.0.0.23") as https_proxy,
    ):
        assert sign_up(admin, "root").status_code == 201
        https = {"X-Forwarded-Proto": "https"}
        # behind an https proxy the cookie is Secure; a client's own claim of https is not believed
        proxied = https_proxy.post("/api/auth/signin", json={"name": "root", "password": PASSWORD}, headers=https)
        assert "secure" in proxied.headers["set-cookie"].lower().split("; ")
        claimed = admin.post("/api/auth/signin", json={"name": "root", "password": PASSWORD}, headers=https)
        assert "secure" not in claimed.headers["set-cookie"].lower().split("; ")
        pending = sign_up(newcomer, "erin")
        assert pending.status_code == 202 and pending.json()["status"] == "pending"
        assert sign_in(newcomer, "erin").json()["error"]["code"] == "account_pending"
        assert admin.patch("/api/admin/users/erin", json={"status": "active"}).status_code == 200
        assert sign_in(newcomer, "erin").status_code == 200
        assert admin.patch("/api/admin/users/erin", json={"status": "disabled"}).status_code == 200
        assert newcomer.get("/api/conversations").status_code == 401  # disabling ends the sign-in


# ip mode ---------------------------------------------------------------------------------------------------------


def test_ip_mode_keys_act_for_their_address_and_v1_needs_no_key(tmp_path, upstream):
    with (
        serve(tmp_path, upstream) as api,
        from_address(api.url, "127.0.0.1") as admin,
        from_address(api.url, "127.0.0.31") as erin,
        from_address(api.url, "127.0.0.32") as frank,
    ):
        secret = chat(erin, "erin's note")["conversation_id"]
        assert_cannot_touch(frank, secret, {})
        assert v1_chat(frank, None).status_code == 200  # the address is the identity, as for the web app
        key = new_key(erin)
        assert titles(frank, {"Authorization": f"Bearer {key}"}) == ["erin's note"]  # her key, from elsewhere
        assert v1_chat(frank, key + "x").status_code == 401
        assert frank.get("/api/admin/usage").status_code == 403
        everyone = admin.get("/api/admin/usage").json()["totals"]  # loopback is an admin by default
        assert {t["identity"] for t in everyone} == {"ip:127.0.0.31", "ip:127.0.0.32"}
        assert admin.get("/api/admin/users").status_code == 404  # no accounts in ip mode
