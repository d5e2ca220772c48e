"""Typed configuration of the chat API: configs/app.yaml, then `LLMCHAT_*` environment overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from llmchat.paths import PROJECT_ROOT, config_dir
from llmchat.prompts.styles import PROMPT_STYLES


@dataclass(frozen=True)
class GenerationDefaults:
    temperature: float = 0.7
    top_p: float = 0.9
    max_tokens: int = 256
    memory_window: int = 10
    system_prompt: str = ""


@dataclass(frozen=True)
class ModelSettings:
    """Per-model settings: routes and, for servers without llmchat's extra /v1/models fields, the metadata."""

    workers: tuple[str, ...] = ()
    api_key: str | None = None
    prompt_style: str | None = None
    context_length: int | None = None
    base_model: str | None = None
    kind: str | None = None
    default_params: dict[str, Any] = field(default_factory=dict)
    # sent with every generation request for this model (server-specific options, e.g. repetition_penalty)
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 8000
    rate_limit_requests: int = 30
    rate_limit_window_s: float = 60.0
    # where Flask-Limiter counts: memory:// (each API process on its own) or redis://host:6379/0 (shared)
    rate_limit_storage: str = "memory://"
    max_concurrent_per_ip: int = 4
    # None: a quarter of gunicorn's threads stay free for everything else (24 of 32)
    max_concurrent_generations: int | None = None
    max_tokens: int = 4096  # the most tokens a reply may ask for, whatever the model or the request says
    # prompt + completion tokens one identity may use per UTC day (chat and /v1 together); None: no quota
    tokens_per_day: int | None = None


@dataclass(frozen=True)
class ReplySettings:
    """A reply is a job of the API process that started it (api/jobs.py): its text is saved every
    `save_interval_s`; its events go to the database every `event_flush_s` (deltas in between are sent as one),
    where every API process reads them, checking that often for new ones; a job not heard from for `stale_after_s`
    lost its API process and its reply is reported as `stopped`; a finished job's events stay `events_kept_s`."""

    save_interval_s: float = 2.0
    stale_after_s: float = 15.0
    event_flush_s: float = 0.1
    events_kept_s: float = 600.0


TITLE_SOURCES = ("first_line", "model")


@dataclass(frozen=True)
class TitleSettings:
    """A conversation is titled with its first message's first line; `source: model` then has a model write a
    short title from the first exchange, in the background while its server is idle (api/titles.py).

    first_line is the default because the shipped model, SmolLM2-135M, is too small to title well: asked for a
    title it mostly answers about titles ("The correct title would ...") or with one stray word. With a bigger
    model (or `model:` naming one that writes the titles) `source: model` is worth its extra generation."""

    source: str = "first_line"  # first_line | model
    max_tokens: int = 16
    model: str | None = None  # the model that writes titles; None: the conversation's model
    # a model title waits at most this long for an idle model server; then the first line stays
    idle_wait_s: float = 120.0


IDENTITY_MODES = ("ip", "header", "accounts")
SIGNUP_MODES = ("closed", "open", "approval")


@dataclass(frozen=True)
class AccountSettings:
    """identity: accounts. `signup`: closed (only `llmchat users add`), open (anyone; the first account is an admin)
    or approval (new accounts wait for an admin)."""

    signup: str = "closed"
    session_days: float = 30.0
    # Flask-Limiter notation, per client address: password guessing is slowed to this
    signin_rate_limit: str = "10 per minute"


@dataclass(frozen=True)
class AppConfig:
    host: str = "127.0.0.1"
    port: int = 5000
    database_url: str = "sqlite:///var/llmchat.db"
    migrate_on_start: bool = True
    worker_urls: tuple[str, ...] = ("http://127.0.0.1:8001",)
    worker_api_key: str | None = None
    worker_timeout_s: float = 300.0
    worker_connect_timeout_s: float = 3.0
    # a model server that answers 503 with Retry-After (its queue or tokenizer is busy) is asked again after that
    # long, for at most this many seconds per reply in all, before the client gets the 503
    worker_busy_wait_s: float = 5.0
    # a model server still loading the model after its own bound (llmchat's worker: 503 `model_loading` after
    # worker.load_timeout_s, 120 s) is asked again for at most this many seconds per reply in all
    worker_load_wait_s: float = 600.0
    health_cache_s: float = 2.0
    models_cache_s: float = 5.0
    default_context_length: int = 2048
    trusted_proxies: tuple[str, ...] = ()
    proxy_hops: int = 0
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    frontend_dist: str = "frontend/dist"
    prompts_dir: str = ""
    title_max_chars: int = 60
    log_level: str = "INFO"
    # who is asking: ip (the client address), header (a sign-in proxy's header, from trusted_proxies only) or
    # accounts (local accounts, signed in with a password)
    identity: str = "ip"
    identity_header: str = "X-Forwarded-User"
    admin_ips: tuple[str, ...] = ("127.0.0.1", "::1")  # identity: ip
    admin_users: tuple[str, ...] = ()  # identity: header (accounts keep their role in the database)
    # who may read /metrics (Prometheus): addresses or networks
    metrics_networks: tuple[str, ...] = ("127.0.0.1", "::1")
    accounts: AccountSettings = field(default_factory=AccountSettings)
    defaults: GenerationDefaults = field(default_factory=GenerationDefaults)
    limits: Limits = field(default_factory=Limits)
    replies: ReplySettings = field(default_factory=ReplySettings)
    titles: TitleSettings = field(default_factory=TitleSettings)
    models: dict[str, ModelSettings] = field(default_factory=dict)

    def frontend_path(self) -> Path:
        return _project_path(self.frontend_dist)

    def prompts_path(self) -> Path:
        return _project_path(self.prompts_dir) if self.prompts_dir else config_dir() / "prompts"


def _project_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def default_config_path() -> Path:
    return Path(os.environ.get("LLMCHAT_APP_CONFIG") or config_dir() / "app.yaml")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _as_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


# environment variable -> (section or "", key, parser); sections are nested dataclasses
ENVIRONMENT: dict[str, tuple[str, str, Any]] = {
    "LLMCHAT_HOST": ("", "host", str),
    "LLMCHAT_PORT": ("", "port", int),
    "LLMCHAT_DATABASE_URL": ("", "database_url", str),
    "LLMCHAT_MIGRATE_ON_START": ("", "migrate_on_start", _as_bool),
    "LLMCHAT_WORKER_URL": ("", "worker_urls", _split),
    "LLMCHAT_WORKER_API_KEY": ("", "worker_api_key", str),
    "LLMCHAT_WORKER_TIMEOUT_S": ("", "worker_timeout_s", float),
    "LLMCHAT_TRUSTED_PROXIES": ("", "trusted_proxies", _split),
    "LLMCHAT_PROXY_HOPS": ("", "proxy_hops", int),
    "LLMCHAT_ALLOWED_HOSTS": ("", "allowed_hosts", _split),
    "LLMCHAT_CORS_ORIGINS": ("", "cors_origins", _split),
    "LLMCHAT_FRONTEND_DIST": ("", "frontend_dist", str),
    "LLMCHAT_PROMPTS_DIR": ("", "prompts_dir", str),
    "LLMCHAT_LOG_LEVEL": ("", "log_level", str),
    "LLMCHAT_IDENTITY": ("", "identity", str),
    "LLMCHAT_IDENTITY_HEADER": ("", "identity_header", str),
    "LLMCHAT_ADMIN_IPS": ("", "admin_ips", _split),
    "LLMCHAT_ADMIN_USERS": ("", "admin_users", _split),
    "LLMCHAT_METRICS_NETWORKS": ("", "metrics_networks", _split),
    "LLMCHAT_SIGNUP": ("accounts", "signup", str),
    "LLMCHAT_TOKENS_PER_DAY": ("limits", "tokens_per_day", int),
    "LLMCHAT_MAX_MESSAGE_CHARS": ("limits", "max_message_chars", int),
    "LLMCHAT_TITLES": ("titles", "source", str),
    "LLMCHAT_RATE_LIMIT_REQUESTS": ("limits", "rate_limit_requests", int),
    "LLMCHAT_RATE_LIMIT_WINDOW_S": ("limits", "rate_limit_window_s", float),
    "LLMCHAT_RATE_LIMIT_STORAGE": ("limits", "rate_limit_storage", str),
    "LLMCHAT_MAX_CONCURRENT_PER_IP": ("limits", "max_concurrent_per_ip", int),
    "LLMCHAT_MAX_CONCURRENT_GENERATIONS": ("limits", "max_concurrent_generations", int),
    "LLMCHAT_MAX_TOKENS_CEILING": ("limits", "max_tokens", int),
    "LLMCHAT_MEMORY_WINDOW": ("defaults", "memory_window", int),
    "LLMCHAT_MAX_TOKENS": ("defaults", "max_tokens", int),
    "LLMCHAT_SYSTEM_PROMPT": ("defaults", "system_prompt", str),
}


LIST_KEYS = ("admin_ips", "admin_users", "metrics_networks")
SECTIONS = {
    "accounts": AccountSettings,
    "defaults": GenerationDefaults,
    "limits": Limits,
    "replies": ReplySettings,
    "titles": TitleSettings,
}


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    return cls(**data)


def config_from_dict(data: dict[str, Any]) -> AppConfig:
    data = dict(data or {})
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        if name in data:
            sections[name] = _build(cls, data.pop(name) or {}, name)
    models = {}
    for model_id, settings in (data.pop("models", None) or {}).items():
        settings = dict(settings or {})
        settings["workers"] = tuple(settings.get("workers") or ())
        style = settings.get("prompt_style")
        if style is not None and style not in PROMPT_STYLES:
            raise ValueError(f"models.{model_id}.prompt_style: {style!r} is not one of {PROMPT_STYLES}")
        models[str(model_id)] = _build(ModelSettings, settings, f"models.{model_id}")
    for name in ("worker_urls", "trusted_proxies", "allowed_hosts", "cors_origins", *LIST_KEYS):
        if name in data:
            data[name] = tuple(data[name] or ())
    return _build(AppConfig, {**data, **sections, "models": models}, "app config")


def check_config(config: AppConfig) -> AppConfig:
    """The choices that must be one of a few words, checked once whatever set them (file or environment)."""
    if config.identity not in IDENTITY_MODES:
        raise ValueError(f"identity: {config.identity!r} is not one of {IDENTITY_MODES}")
    if config.accounts.signup not in SIGNUP_MODES:
        raise ValueError(f"accounts.signup: {config.accounts.signup!r} is not one of {SIGNUP_MODES}")
    if config.titles.source not in TITLE_SOURCES:
        raise ValueError(f"titles.source: {config.titles.source!r} is not one of {TITLE_SOURCES}")
    if config.limits.tokens_per_day is not None and config.limits.tokens_per_day < 1:
        raise ValueError("limits.tokens_per_day must be 1 or more (or null for no quota)")
    return config


def apply_environment(config: AppConfig, environ: dict[str, str] | None = None) -> AppConfig:
    environ = dict(os.environ if environ is None else environ)
    for variable, (section, key, parse) in ENVIRONMENT.items():
        if variable not in environ:
            continue
        try:
            value = parse(environ[variable])
        except ValueError as exc:
            raise ValueError(f"{variable}={environ[variable]!r}: {exc}") from exc
        if section:
            config = replace(config, **{section: replace(getattr(config, section), **{key: value})})
        else:
            config = replace(config, **{key: value})
    return config


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> AppConfig:
    """configs/app.yaml (or `path`; a missing file means all defaults), then the environment."""
    path = Path(path) if path else default_config_path()
    data: dict[str, Any] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping")
    return check_config(apply_environment(config_from_dict(data), environ))
