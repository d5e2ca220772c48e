"""What a request must be before any route sees it, and the headers every response carries.

Conversations belong to the client's address, so any web page the user visits could act as the user through
their browser (it shares the address). Checked in this order, each refusal one log line:

1. identity: the client address is resolved once (identity.py); a request without one is refused (400);
2. Host: only the allow-list is served (400), so a page on evil.example whose name resolves to 127.0.0.1 (DNS
   rebinding) cannot read the API as a same-origin page;
3. Origin: a state-changing request sent by another site's page is refused (403);
4. Content-Type: a body sent to the API must be `application/json` (415): a page can send text/plain or a form
   to any address without a CORS preflight, but not JSON.

Every response gets `nosniff`, a Content-Security-Policy made for the built web app (its own module scripts and
stylesheets only, no inline script, no framing) and no Referer. flask-cors answers for the origins the operator
lists in `cors_origins` (none by default), for a web app hosted elsewhere.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_cors import CORS
from werkzeug.sansio.utils import host_is_trusted

from llmchat.api.config import AppConfig
from llmchat.api.errors import Refused
from llmchat.api.identity import ENVIRON_KEY, ProxySettings, client_ip, parse_networks, too_wide

log = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::")
DEFAULT_PORTS = (":80", ":443")

# The built app (frontend/dist) loads its own module script and stylesheet and shows the favicon as a data: URL;
# Vue and the app set element styles through the CSSOM only (el.style.height), which style-src does not govern.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}


def allowed_hosts(config: AppConfig) -> tuple[str, ...]:
    """`allowed_hosts`, or by default the configured host (unless it binds every address) and the loopback names."""
    if config.allowed_hosts:
        return config.allowed_hosts
    own = () if config.host in WILDCARD_BINDS else (config.host,)
    return tuple(dict.fromkeys((*own, *LOCAL_HOSTS)))


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """werkzeug's check (the one behind Flask's TRUSTED_HOSTS: a name, or `.example.com` for its subdomains) plus
    IPv6 literals, which werkzeug 3.1 never matches ("[::1]:5000" against "::1")."""
    if host.startswith("["):
        literal, _, port = host[1:].partition("]")
        if port and not (port.startswith(":") and port[1:].isdigit() and 1 <= int(port[1:]) <= 65535):
            return False
        return _ipv6(literal) is not None and _ipv6(literal) in {_ipv6(entry.strip("[]")) for entry in allowed}
    names = [entry.lower() for entry in allowed if _ipv6(entry.strip("[]")) is None]
    return host_is_trusted(host.lower(), names)  # host names are case-insensitive


def _ipv6(text: str) -> ipaddress.IPv6Address | None:
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def origin_allowed(origin: str, host: str, extra_origins: Sequence[str]) -> bool:
    """The page's origin is this site (its host and port are the Host the request was sent to) or one listed."""
    if origin in extra_origins:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or "@" in parts.netloc:
        return False  # "null" (a sandboxed frame, a file), or not an origin at all
    return _without_default_port(parts.netloc) == _without_default_port(host)


def _without_default_port(netloc: str) -> str:
    netloc = netloc.lower()
    for port in DEFAULT_PORTS:
        if netloc.endswith(port):
            return netloc[: -len(port)]
    return netloc


def check_origins_config(origins: Sequence[str]) -> tuple[str, ...]:
    """`cors_origins` entries must be exact origins: `https://chat.example.com[:port]`, no `*`, no path."""
    for origin in origins:
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path
            or origin != origin.strip()
            or any(c in origin for c in "*?[]()^$\\")
        ):
            raise ValueError(f"cors_origins: {origin!r} is not an origin such as https://chat.example.com")
    return tuple(origins)


def has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def install_security(app: Flask, config: AppConfig) -> None:
    """Register the checks (before any other before_request hook, the rate limiter's included) and the headers."""
    if config.proxy_hops < 0:
        raise ValueError("proxy_hops must be 0 or more")
    proxies = ProxySettings(parse_networks(config.trusted_proxies), config.proxy_hops)
    for network in too_wide(proxies.trusted):
        log.warning(
            "trusted_proxies lists %s, wider than a /24 (/64): any client inside it can claim any other "
            "address in X-Forwarded-For. List the proxies themselves.",
            network,
        )
    hosts = allowed_hosts(config)
    origins = check_origins_config(config.cors_origins)

    @app.before_request
    def identify():
        forwarded = ", ".join(request.headers.getlist("X-Forwarded-For"))
        client = client_ip(request.remote_addr, forwarded, proxies)
        if client is None:
            raise Refused(400, "unidentified_client", "the request has no client address to go by")
        request.environ[ENVIRON_KEY] = client

    @app.before_request
    def check_host():
        host = request.headers.get("Host", "")
        if not host_allowed(host, hosts):
            raise Refused(
                400,
                "host_not_allowed",
                f"host {host[:100]!r} is not served here; the operator can add it to allowed_hosts",
            )

    @app.before_request
    def check_origin():
        origin = request.headers.get("Origin")
        if (
            request.method in STATE_CHANGING
            and origin is not None
            and not origin_allowed(origin, request.headers.get("Host", ""), origins)
        ):
            raise Refused(
                403,
                "cross_origin",
                f"requests from the page at {origin[:100]!r} are not accepted; the operator can add it to cors_origins",
            )

    @app.before_request
    def check_content_type():
        if has_body() and request.path.startswith(("/api/", "/v1/")) and request.mimetype != "application/json":
            raise Refused(
                415,
                "unsupported_media_type",
                f"the body must be JSON sent as Content-Type: application/json (got {request.mimetype or 'none'!r})",
            )

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    if origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(origins)}},
            allow_headers=["Content-Type"],
            expose_headers=["Retry-After", "Content-Disposition"],
            methods=sorted({"GET", *STATE_CHANGING}),
            max_age=600,
        )
