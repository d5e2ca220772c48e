"""`llmchat users ...` and `llmchat keys ...` on a real database (the app config's), as an operator runs them."""

from __future__ import annotations

import io

import pytest
import yaml

from llmchat.cli import main
from llmchat.store import AccountStore, ChatStore, KeyStore, open_database


def run(capsys, monkeypatch, argv: list[str], stdin: str = "") -> tuple[int, list[str]]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    return code, capsys.readouterr().out.splitlines()


def test_users_and_keys_from_the_command_line(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = tmp_path / "app.yaml"
    config.write_text(yaml.safe_dump({"database_url": url, "identity": "accounts"}))
    at = ["--config", str(config)]

    assert run(capsys, monkeypatch, ["users", "add", "alice", "--admin", *at], "correct horse\n") == (
        0,
        ["added alice (admin)"],
    )
    code, _ = run(capsys, monkeypatch, ["users", "add", "bob", *at], "short\n")
    assert code == 2  # too short a password: nothing added
    code, lines = run(capsys, monkeypatch, ["keys", "create", "laptop", "--user", "alice", *at])
    key = lines[-1]
    assert code == 0 and key.startswith("llmc-")
    with pytest.raises(SystemExit, match="--user NAME is needed"):
        run(capsys, monkeypatch, ["keys", "create", "x", *at])
    code, lines = run(capsys, monkeypatch, ["keys", "list", *at])
    assert code == 0 and "user:alice\tlaptop" in lines[0] and key not in lines[0]

    database = open_database(url)
    try:
        assert AccountStore(database).verify("alice", "correct horse").admin
        assert AccountStore(database).user("bob") is None
        assert KeyStore(database).owner(key) == "user:alice"
        ChatStore(database).create_conversation("ip:10.0.0.5", "from before accounts", None)
        key_id = KeyStore(database).list()[0].id
    finally:
        database.dispose()

    assert run(capsys, monkeypatch, ["users", "assign-ip", "10.0.0.5", "alice", *at]) == (
        0,
        ["1 conversations of 10.0.0.5 now belong to alice"],
    )
    assert run(capsys, monkeypatch, ["keys", "revoke", str(key_id), *at]) == (0, [f"revoked key {key_id}"])
    assert run(capsys, monkeypatch, ["keys", "revoke", str(key_id), *at])[0] == 2
    assert run(capsys, monkeypatch, ["users", "set", "alice", "--status", "disabled", *at])[1] == [
        "alice\tadmin\tdisabled"
    ]

    database = open_database(url)
    try:
        assert KeyStore(database).owner(key) is None
        assert [c.title for c in ChatStore(database).list_conversations("user:alice")] == ["from before accounts"]
    finally:
        database.dispose()
