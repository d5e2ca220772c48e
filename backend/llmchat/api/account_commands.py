"""`llmchat users ...` (local accounts) and `llmchat keys ...` (personal API keys), on the database of app.yaml."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Iterator
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    users = subparsers.add_parser("users", help="local accounts (identity: accounts)")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", help="add an account; the password is read from stdin (asked twice on a tty)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="give the account the admin role")
    add.set_defaults(handler=add_user)
    listing = users_sub.add_parser("list", help="the accounts, their role and status")
    listing.set_defaults(handler=list_users)
    change = users_sub.add_parser("set", help="change an account's role or status")
    change.add_argument("name")
    change.add_argument("--role", choices=("admin", "user"))
    change.add_argument("--status", choices=("active", "pending", "disabled"))
    change.set_defaults(handler=set_user)
    assign = users_sub.add_parser(
        "assign-ip", help="give the conversations an address had (from identity: ip days) to an account"
    )
    assign.add_argument("address", help="the client address, as the access log shows it")
    assign.add_argument("name")
    assign.set_defaults(handler=assign_ip)

    keys = subparsers.add_parser("keys", help="personal API keys for the chat server's /v1 endpoint")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = keys_sub.add_parser("create", help="a new key; printed once, as the last line")
    create.add_argument("name", help="what the key is for (shown in lists)")
    owner = create.add_mutually_exclusive_group()
    owner.add_argument("--user", help="the account (or proxy user) the key acts for")
    owner.add_argument("--ip", help="identity: ip: the address the key acts for (default 127.0.0.1)")
    create.set_defaults(handler=create_key)
    key_list = keys_sub.add_parser("list", help="every key: id, owner, name, prefix, last use")
    key_list.set_defaults(handler=list_keys)
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=revoke_key)
    for parser in (add, listing, change, assign, create, key_list, revoke):
        parser.add_argument("--config", type=Path, default=None, help="app config (default configs/app.yaml)")


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[tuple]:
    """The app config and its database (migrated when the config says so), released afterwards."""
    from llmchat.api.config import load_config
    from llmchat.store import open_database

    config = load_config(args.config)
    database = open_database(config.database_url, migrate=config.migrate_on_start)
    try:
        yield config, database
    finally:
        database.dispose()


def read_password(stdin=None) -> str:
    """Asked twice on a terminal; otherwise the first line of stdin (scripts: `echo "$PW" | llmchat users add`)."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def add_user(args: argparse.Namespace) -> int:
    from llmchat.store import AccountError, AccountStore

    with _database(args) as (_, database):
        try:
            user = AccountStore(database).add_user(args.name, read_password(), role="admin" if args.admin else "user")
        except AccountError as exc:
            print(f"llmchat users add: {exc}", file=sys.stderr)
            return 2
    print(f"added {user.name} ({user.role})")
    return 0


def list_users(args: argparse.Namespace) -> int:
    from llmchat.store import AccountStore

    with _database(args) as (_, database):
        for user in AccountStore(database).users():
            print(f"{user.name}\t{user.role}\t{user.status}\t{user.created_at:%Y-%m-%d}")
    return 0


def set_user(args: argparse.Namespace) -> int:
    from llmchat.store import AccountStore

    with _database(args) as (_, database):
        user = AccountStore(database).update_user(args.name, role=args.role, status=args.status)
    if user is None:
        print(f"llmchat users set: no user {args.name!r}", file=sys.stderr)
        return 2
    print(f"{user.name}\t{user.role}\t{user.status}")
    return 0


def assign_ip(args: argparse.Namespace) -> int:
    from llmchat.api.identity import canonical
    from llmchat.store import AccountError, AccountStore

    address = canonical(args.address)
    if address is None:
        print(f"llmchat users assign-ip: {args.address!r} is not an address", file=sys.stderr)
        return 2
    with _database(args) as (_, database):
        try:
            moved = AccountStore(database).assign_conversations(f"ip:{address}", args.name)
        except AccountError as exc:
            print(f"llmchat users assign-ip: {exc}", file=sys.stderr)
            return 2
    print(f"{moved} conversations of {address} now belong to {args.name}")
    return 0


def key_owner(config, user: str | None, ip: str | None) -> str:
    from llmchat.api.identity import canonical

    if user:
        return f"user:{user}"
    if config.identity != "ip":
        raise SystemExit(f"llmchat keys create: --user NAME is needed (identity: {config.identity})")
    address = canonical(ip or "127.0.0.1")
    if address is None:
        raise SystemExit(f"llmchat keys create: {ip!r} is not an address")
    return f"ip:{address}"


def create_key(args: argparse.Namespace) -> int:
    from llmchat.store import AccountStore, KeyStore

    with _database(args) as (config, database):
        owner = key_owner(config, args.user, args.ip)
        if config.identity == "accounts" and AccountStore(database).user(args.user) is None:
            print(f"llmchat keys create: no user {args.user!r}", file=sys.stderr)
            return 2
        record, key = KeyStore(database).create(owner, args.name)
    print(f"key {record.id} ({record.name}) for {owner}; it is shown only now:")
    print(key)
    return 0


def list_keys(args: argparse.Namespace) -> int:
    from llmchat.store import KeyStore

    with _database(args) as (_, database):
        for key in KeyStore(database).list():
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
            state = "revoked" if key.revoked else "live"
            print(f"{key.id}\t{key.identity}\t{key.name}\t{key.prefix}…\t{used}\t{state}")
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    from llmchat.store import KeyStore

    with _database(args) as (_, database):
        revoked = KeyStore(database).revoke(args.id)
    if not revoked:
        print(f"llmchat keys revoke: no live key {args.id}", file=sys.stderr)
        return 2
    print(f"revoked key {args.id}")
    return 0
