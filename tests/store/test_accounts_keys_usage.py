"""Accounts (argon2 hashes, sign-ins that end for good), API keys (only a hash kept) and usage (concurrent adds)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from llmchat.store import AccountError, AccountStore, ChatStore, KeyStore, UsageStore


def test_passwords_are_argon2_hashes_and_verify_only_the_right_one(database):
    accounts = AccountStore(database)
    accounts.add_user("alice", "correct horse")
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM users")).scalar()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert accounts.verify("alice", "correct horse").name == "alice"
    assert accounts.verify("alice", "wrong horse") is None
    assert accounts.verify("nobody", "correct horse") is None
    with pytest.raises(AccountError) as taken:
        accounts.add_user("alice", "another password")
    assert taken.value.field == "name"
    with pytest.raises(AccountError) as short:
        accounts.add_user("bob", "short")
    assert short.value.field == "password"
    for bad in ("../etc", "alice\n", "a\x00b", ""):
        with pytest.raises(AccountError):
            accounts.add_user(bad, "long enough password")
        assert accounts.verify(bad, "long enough password") is None and accounts.user(bad) is None


def test_the_first_sign_up_is_an_admin_and_approval_leaves_the_rest_pending(database):
    accounts = AccountStore(database)
    first = accounts.sign_up("root", "password one", approval=True)
    second = accounts.sign_up("guest", "password two", approval=True)
    assert (first.role, first.status) == ("admin", "active")
    assert (second.role, second.status) == ("user", "pending")


def test_sign_out_and_password_change_end_sign_ins(database):
    accounts = AccountStore(database)
    user = accounts.add_user("alice", "first password")
    token = accounts.sign_in(user, timedelta(days=1))
    other = accounts.sign_in(user, timedelta(days=1))
    assert accounts.signed_in(token).name == "alice"
    accounts.sign_out(token)
    assert accounts.signed_in(token) is None
    assert accounts.signed_in(other) is not None
    accounts.set_password("alice", "second password")
    assert accounts.signed_in(other) is None
    expired = accounts.sign_in(user, timedelta(seconds=-1))
    assert accounts.signed_in(expired) is None
    live = accounts.sign_in(user, timedelta(days=1))
    accounts.update_user("alice", status="disabled")
    assert accounts.signed_in(live) is None


def test_keys_are_kept_as_hashes_and_revoked_for_their_owner_only(database):
    keys = KeyStore(database)
    record, key = keys.create("user:alice", "laptop")
    assert key.startswith("llmc-") and len(key) > 40 and key.startswith(record.prefix)
    with database.engine.connect() as connection:
        assert key not in str(connection.execute(text("SELECT * FROM api_keys")).all())
    assert keys.owner(key) == "user:alice"
    assert keys.owner(key + "x") is None
    assert not keys.revoke(record.id, "user:bob")
    assert not keys.revoke(2**63, "user:alice")  # no id that large: not found, not an integer overflow
    assert keys.owner(key) == "user:alice"
    assert keys.revoke(record.id, "user:alice")
    assert keys.owner(key) is None
    assert [k.revoked for k in keys.list("user:alice")] == [True]


def test_usage_adds_up_under_concurrent_replies(database):
    usage = UsageStore(database)
    threads = [threading.Thread(target=usage.record, args=("user:alice", "m", 10, 5)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage.record("user:bob", "m", 1, 1)
    [row] = usage.rows("user:alice")
    assert (row.requests, row.prompt_tokens, row.completion_tokens) == (8, 80, 40)
    assert usage.tokens_today("user:alice") == 120
    assert {r.identity for r in usage.rows()} == {"user:alice", "user:bob"}


def test_an_address_s_conversations_can_be_given_to_a_user(database):
    store = ChatStore(database)
    accounts = AccountStore(database)
    accounts.add_user("alice", "long password")
    mine = store.create_conversation("ip:10.0.0.1", "from the address days", None)
    store.create_conversation("user:alice", "already hers", None)
    assert accounts.assign_conversations("ip:10.0.0.1", "alice") == 1
    assert store.list_conversations("ip:10.0.0.1") == []
    assert {c.title for c in store.list_conversations("user:alice")} == {"from the address days", "already hers"}
    assert store.get_conversation("user:alice", mine.id) is not None
