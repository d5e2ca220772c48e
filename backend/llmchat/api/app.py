"""The Flask app factory."""

from __future__ import annotations

import logging

from flask import Flask

from llmchat.api.callers import CallerResolver, install_callers
from llmchat.api.config import AppConfig, check_config, load_config
from llmchat.api.errors import register_error_handlers
from llmchat.api.jobs import ReplyJobs
from llmchat.api.limits import ApiLimits
from llmchat.api.metrics import install_metrics
from llmchat.api.model_errors import register_model_error_handler
from llmchat.api.reply_stream import ReplyFollower
from llmchat.api.routes import (
    account,
    admin,
    cards,
    chat,
    conversations,
    data,
    exports,
    feedback,
    keys,
    leaderboard,
    meta,
    openai,
    runs,
    search,
    usage,
)
from llmchat.api.routes.frontend import install_frontend
from llmchat.api.routing import Router
from llmchat.api.schemas import request_schemas
from llmchat.api.security import install_security
from llmchat.api.services import EXTENSION, Services
from llmchat.api.titles import TitleWriter
from llmchat.api.turn_builder import TurnBuilder
from llmchat.api.turn_runner import TurnRunner
from llmchat.modelclient import ModelClient
from llmchat.prompts import PromptBuilder
from llmchat.store import AccountStore, ChatStore, FeedbackStore, KeyStore, UsageStore, open_database
from llmchat.store.jobs import JobStore
from llmchat.store.replies import ReplyStore

BLUEPRINTS = (
    meta.bp,
    account.me_bp,
    account.bp,
    cards.bp,
    chat.bp,
    conversations.bp,
    search.bp,
    feedback.bp,
    leaderboard.bp,
    keys.bp,
    usage.bp,
    admin.bp,
    data.bp,
    exports.bp,
    runs.bp,
    openai.bp,
)


def create_app(config: AppConfig | None = None, model_client: ModelClient | None = None) -> Flask:
    """The app of `config` (app.yaml and the environment when None). `model_client` talks to the model servers;
    by default the HTTP client, and the fast tests hand in a fake with the same interface (tests/support)."""
    config = check_config(config or load_config())
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-plugin INFO lines say nothing useful
    app = Flask("llmchat.api", static_folder=None)
    app.json.sort_keys = False
    # the body may hold the message (UTF-8, up to 4 bytes a character), params and a system prompt
    app.config["MAX_CONTENT_LENGTH"] = config.limits.max_message_chars * 4 + 64 * 1024

    database = open_database(config.database_url, migrate=config.migrate_on_start)
    replies = config.replies
    store = ChatStore(database, stale_after_s=replies.stale_after_s)
    reply_store = ReplyStore(database, stale_after_s=replies.stale_after_s, kept_s=replies.events_kept_s)
    job_store = JobStore(database, stale_after_s=replies.stale_after_s, kept_s=replies.events_kept_s)
    client = model_client or ModelClient(config.worker_timeout_s, config.worker_connect_timeout_s)
    router = Router(config, client)
    limits = config.limits
    prompts = PromptBuilder(config.prompts_path())
    accounts = AccountStore(database, sign_ins=config.identity == "accounts")
    keys_store, usage_store = KeyStore(database), UsageStore(database)
    callers = CallerResolver(config, accounts, keys_store)
    titles = TitleWriter(config, store, router, prompts)
    runner = TurnRunner(reply_store, router, titles, usage_store, replies.save_interval_s)
    jobs = ReplyJobs(job_store, runner, replies.event_flush_s)
    app.extensions[EXTENSION] = Services(
        config=config,
        database=database,
        store=store,
        feedback=FeedbackStore(database),
        router=router,
        turns=TurnBuilder(config, store, reply_store, router, prompts),
        runner=runner,
        jobs=jobs,
        follower=ReplyFollower(job_store, store, replies.event_flush_s, jobs),
        schemas=request_schemas(limits.max_tokens, limits.max_message_chars),
        accounts=accounts,
        keys=keys_store,
        usage=usage_store,
        callers=callers,
    )

    # order matters: the metrics' timer, which address, whether the request is acceptable, who is asking, then the
    # rate limits
    install_metrics(app, config.metrics_networks)
    install_security(app, config)
    install_callers(app, callers)
    ApiLimits(limits, usage_store, account.bp, config.accounts.signin_rate_limit, app=app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    register_model_error_handler(app)
    install_frontend(app, config.frontend_path())
    return app


def close_app(app: Flask) -> None:
    """Stop the replies still being written (saved as `stopped`), release the database pool and the HTTP client
    (tests start many apps in one process)."""
    stop_jobs(app)
    services: Services = app.extensions[EXTENSION]
    services.runner.titles.close()
    services.router.client.close()
    services.database.dispose()


def stop_jobs(app: Flask) -> None:
    """Stop the replies this process is writing and wait (a while) for them to be saved as `stopped`."""
    services: Services = app.extensions[EXTENSION]
    services.jobs.close()
