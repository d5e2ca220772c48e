"""`llmchat serve`: the chat API (and the built web app) under gunicorn, or Flask's server with --dev."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the chat API and web app",
        description="Run the chat API (and frontend/dist when built) under gunicorn with gthread workers.",
    )
    parser.add_argument("--host", default=None, help="address to bind (default from app.yaml: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default from app.yaml: 5000)")
    parser.add_argument(
        "--worker-url",
        action="append",
        default=None,
        dest="worker_urls",
        help="model server URL; repeat for several (default http://127.0.0.1:8001)",
    )
    parser.add_argument("--config", type=Path, default=None, help="app config (default configs/app.yaml)")
    parser.add_argument(
        "--gunicorn-config", type=Path, default=None, help="gunicorn settings (default configs/gunicorn.conf.py)"
    )
    parser.add_argument("--dev", action="store_true", help="Flask's development server with reload")
    parser.set_defaults(handler=serve)


def serve_config(args: argparse.Namespace):
    from llmchat.api.config import load_config

    config = load_config(args.config)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.worker_urls:
        overrides["worker_urls"] = tuple(args.worker_urls)
    return replace(config, **overrides)


def serve(args: argparse.Namespace) -> int:
    if not args.dev:
        from llmchat.api.gunicorn_app import prepare_metrics_dir

        prepare_metrics_dir()  # before anything imports prometheus_client: the workers write their metrics there
    from llmchat.api.app import create_app
    from llmchat.store import open_database

    config = serve_config(args)
    if config.migrate_on_start:
        # once, here, before any gunicorn worker starts: workers then open the database without migrating
        open_database(config.database_url, migrate=True).dispose()
    app_config = replace(config, migrate_on_start=False)
    print(f"llmchat API on http://{config.host}:{config.port}  (models from {', '.join(config.worker_urls)})")
    if args.dev:
        create_app(app_config).run(host=config.host, port=config.port, debug=True, threaded=True)
        return 0
    from llmchat.api.gunicorn_app import run_gunicorn

    run_gunicorn(app_config, args.gunicorn_config)
    return 0
