"""Who am I (GET /api/me), and, with identity: accounts, sign-up, sign-in, sign-out and password change
(/api/auth/*, rate-limited per address: accounts.signin_rate_limit)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, jsonify, request

from llmchat.api.callers import SESSION_COOKIE, current_caller
from llmchat.api.errors import ApiError, Refused
from llmchat.api.identity import canonical
from llmchat.api.schemas import validate
from llmchat.api.services import Services, json_body, services
from llmchat.api.team_schemas import PasswordChange, SignInRequest
from llmchat.store import AccountError, UserRecord

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
me_bp = Blueprint("me", __name__, url_prefix="/api")


@me_bp.get("/me")
def me():
    """The caller as the web app needs it: who, whether admin, and how one signs in here."""
    app = services()
    caller = current_caller()
    return jsonify(
        {
            "identity": caller.identity or None,
            "name": caller.name or None,
            "admin": caller.admin,
            "mode": app.config.identity,
            "signup": app.config.accounts.signup if app.config.identity == "accounts" else "closed",
        }
    )


def _accounts_only(app: Services) -> None:
    if app.config.identity != "accounts":
        raise ApiError(404, "not_found", f"there are no local accounts here (identity: {app.config.identity})")


def _account_error(exc: AccountError) -> ApiError:
    return ApiError(400, "invalid_field", str(exc), field=exc.field)


def _over_https(app: Services) -> bool:
    """The browser talks https to us: directly, or to a trusted proxy that says so (X-Forwarded-Proto)."""
    if request.is_secure:
        return True
    peer = canonical(request.remote_addr or "")
    from_proxy = peer is not None and app.callers.from_proxy(peer)
    return from_proxy and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def _signed_in(app: Services, user: UserRecord, status: int = 200) -> Response:
    lifetime = timedelta(days=app.config.accounts.session_days)
    token = app.accounts.sign_in(user, lifetime)
    response = jsonify({"identity": user.identity, "name": user.name, "admin": user.admin, "status": user.status})
    response.status_code = status
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=_over_https(app),
        path="/",
    )
    return response


@bp.post("/signup")
def signup():
    app = services()
    _accounts_only(app)
    if app.config.accounts.signup == "closed":
        raise ApiError(403, "signup_closed", "sign-up is closed here; an admin adds accounts (llmchat users add)")
    body = validate(SignInRequest, json_body())
    try:
        user = app.accounts.sign_up(body.name, body.password, approval=app.config.accounts.signup == "approval")
    except AccountError as exc:
        raise _account_error(exc) from exc
    if user.status != "active":
        response = jsonify({"identity": user.identity, "name": user.name, "admin": False, "status": user.status})
        response.status_code = 202  # accepted, waiting for an admin
        return response
    return _signed_in(app, user, status=201)


@bp.post("/signin")
def signin():
    app = services()
    _accounts_only(app)
    body = validate(SignInRequest, json_body())
    user = app.accounts.verify(body.name, body.password)
    if user is None:
        raise Refused(401, "wrong_credentials", "wrong name or password")
    if user.status != "active":
        raise Refused(403, f"account_{user.status}", f"this account is {user.status}; an admin can change that")
    return _signed_in(app, user)


@bp.post("/signout")
def signout():
    app = services()
    _accounts_only(app)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        app.accounts.sign_out(token)
    response = Response(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax")
    return response


@bp.post("/password")
def change_password():
    """A new password ends every sign-in of the user, this browser's too: it gets a new one."""
    app = services()
    _accounts_only(app)
    caller = current_caller()
    if not caller.known or caller.by_key:
        raise Refused(401, "unauthenticated", "sign in first (an API key cannot change a password)")
    body = validate(PasswordChange, json_body())
    user = app.accounts.verify(caller.name, body.current_password)
    if user is None:
        raise Refused(403, "wrong_credentials", "current_password is wrong")
    try:
        app.accounts.set_password(user.name, body.new_password)
    except AccountError as exc:
        raise ApiError(400, "invalid_field", f"new_{exc}", field="new_password") from exc
    return _signed_in(app, user)
