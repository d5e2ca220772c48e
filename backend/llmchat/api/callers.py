"""Who is asking, in the identity mode the operator chose, resolved once per request before any route runs.

- a personal API key (`Authorization: Bearer llmc-...`) names its owner in every mode; a wrong or revoked key is
  401, never a fallback to the address;
- `ip`: the client address (identity.client_ip) is the identity, `ip:<address>`; admins are `admin_ips`;
- `header`: a sign-in proxy names the user in `identity_header`; believed only when the TCP peer is one of
  `trusted_proxies`; without it, or from anyone else, the request is 401. Admins are `admin_users`;
- `accounts`: the sign-in cookie (accounts.py) names the user; without one only the sign-in routes, the health
  check and the web app's files answer (401 for the rest). Admins have the role in the database.

Everything that belongs to someone (conversations, feedback, votes, keys, usage, rate limits) goes by
`Caller.identity`. Rate limits and generation caps go by `Caller.limit_key`: the identity, except that in `ip`
mode an IPv6 client counts as its whole /64 (identity.limit_key).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Request, request

from llmchat.api.errors import Refused
from llmchat.api.identity import ENVIRON_KEY, Network, canonical, in_networks, limit_key, parse_networks

CALLER_KEY = "llmchat.caller"  # where the resolved caller lives in the WSGI environ
SESSION_COOKIE = "llmchat_session"
BEARER = "bearer "
# reachable before anyone is known (accounts mode): the sign-in itself, the health check, the web app's files
OPEN_API_PATHS = ("/api/health", "/api/me", "/api/auth/", "/api/limits", "/api/openapi.json")


@dataclass(frozen=True)
class Caller:
    identity: str  # "ip:203.0.113.5" or "user:alice"
    name: str  # what the web app shows
    admin: bool
    limit_key: str
    by_key: bool = False  # came with a personal API key

    @property
    def known(self) -> bool:
        return bool(self.identity)


NOBODY = Caller(identity="", name="", admin=False, limit_key="")


def ip_caller(address: str, admins: tuple[Network, ...]) -> Caller:
    return Caller(
        identity=f"ip:{address}", name=address, admin=in_networks(address, admins), limit_key=limit_key(address)
    )


def user_caller(name: str, admin: bool, by_key: bool = False) -> Caller:
    identity = f"user:{name}"
    return Caller(identity=identity, name=name, admin=admin, limit_key=identity, by_key=by_key)


def bearer_token(req: Request) -> str | None:
    header = req.headers.get("Authorization", "")
    return header[len(BEARER) :].strip() if header.lower().startswith(BEARER) else None


def needs_identity(path: str) -> bool:
    """Routes that act for someone: the API (bar the open ones), /v1; not the web app's files or /metrics."""
    if path.startswith("/v1/"):
        return True
    return path.startswith("/api/") and not any(
        path == open_path or (open_path.endswith("/") and path.startswith(open_path)) for open_path in OPEN_API_PATHS
    )


def unauthenticated(message: str) -> Refused:
    return Refused(401, "unauthenticated", message, headers={"WWW-Authenticate": 'Bearer realm="llmchat"'})


class CallerResolver:
    """Turns a request (its resolved client address, headers and cookie) into a Caller for the configured mode."""

    def __init__(self, config, accounts, keys):
        self.mode = config.identity
        self.header = config.identity_header
        self.admin_ips = parse_networks(config.admin_ips)
        self.admin_users = frozenset(config.admin_users)
        self.proxies = parse_networks(config.trusted_proxies)
        self.accounts = accounts
        self.keys = keys

    def resolve(self, req: Request, client_address: str) -> Caller:
        token = bearer_token(req)
        if token:
            return self._by_key(token)
        if self.mode == "ip":
            return ip_caller(client_address, self.admin_ips)
        if self.mode == "header":
            return self._by_header(req)
        return self._by_cookie(req)

    def from_proxy(self, address: str) -> bool:
        return in_networks(address, self.proxies)

    def owner_caller(self, identity: str, by_key: bool = False) -> Caller | None:
        """The Caller an identity stands for now (a user must still exist and be active); None otherwise."""
        kind, _, name = identity.partition(":")
        if kind == "ip":
            return ip_caller(name, self.admin_ips)
        if self.mode == "accounts":
            user = self.accounts.user(name)
            if user is None or user.status != "active":
                return None
            return user_caller(name, user.admin, by_key)
        return user_caller(name, name in self.admin_users, by_key)

    def _by_key(self, token: str) -> Caller:
        identity = self.keys.owner(token)
        caller = self.owner_caller(identity, by_key=True) if identity else None
        if caller is None:
            raise unauthenticated("the API key is not valid (wrong, revoked, or its user is disabled)")
        if identity.startswith("ip:") and self.mode != "ip":
            raise unauthenticated("this key belongs to an address; the server now goes by users")
        return caller

    def _by_header(self, req: Request) -> Caller:
        peer = canonical(req.remote_addr or "")
        name = (req.headers.get(self.header) or "").strip()
        if peer is None or not in_networks(peer, self.proxies):
            raise unauthenticated(f"sign in through the sign-in proxy ({self.header} is only believed from it)")
        if not name or len(name) > 190:
            raise unauthenticated(f"the sign-in proxy sent no user ({self.header})")
        return user_caller(name, name in self.admin_users)

    def _by_cookie(self, req: Request) -> Caller:
        token = req.cookies.get(SESSION_COOKIE)
        user = self.accounts.signed_in(token) if token else None
        if user is None:
            return NOBODY
        return user_caller(user.name, user.admin)


def current_caller() -> Caller:
    return request.environ[CALLER_KEY]


def install_callers(app: Flask, resolver: CallerResolver) -> None:
    """Resolve the caller after the security checks (which resolve the address) and before the rate limiter."""

    @app.before_request
    def identify_caller():
        try:
            caller = resolver.resolve(request, request.environ[ENVIRON_KEY])
        except Refused:
            if needs_identity(request.path):
                raise
            caller = NOBODY  # a wrong key or header on an open route: the route answers as for anyone
        if not caller.known and needs_identity(request.path):
            raise unauthenticated("sign in first")
        request.environ[CALLER_KEY] = caller
