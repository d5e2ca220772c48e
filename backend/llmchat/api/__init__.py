"""The chat API: Flask app, config, worker client and routing, `llmchat serve`."""

from llmchat.api.app import close_app, create_app
from llmchat.api.config import AppConfig, load_config

__all__ = ["AppConfig", "close_app", "create_app", "load_config"]
