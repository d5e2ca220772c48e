"""The `llmchat` command. Each part of the product registers its own subcommands.

Command modules are imported here, but each keeps its heavy imports (torch, transformers,
flask) inside its handlers, so `llmchat --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module that defines `register(subparsers)`; the order is the order in --help
COMMAND_MODULES = (
    "llmchat.worker.commands",  # worker, models
    "llmchat.api.commands",  # serve
    "llmchat.api.account_commands",  # users, keys
    "llmchat.training.commands",  # data, finetune, export, evaluate
    "llmchat.training.runner.commands",  # runs
    "llmchat.launcher",  # up
)

EPILOG = """examples:
  llmchat models prepare                      convert the packaged SmolLM2 GGUF once into models/
  llmchat models pull Qwen/Qwen2.5-0.5B-Instruct   download a Hub model for `source: hf:Qwen/Qwen2.5-0.5B-Instruct`
  llmchat models list                         the models the worker serves, and the ones Ollama has
  llmchat worker --port 8001                  serve the models in configs/models.yaml (OpenAI API)
  llmchat serve --port 5000                   the chat API and web app on http://127.0.0.1:5000
  llmchat up                                  worker + API together (what `make run` starts); Ctrl-C stops both
  llmchat users add alice --admin             a local account (identity: accounts); the password from stdin
  llmchat keys create laptop --user alice     a personal API key for the chat server's /v1 (printed once)
  llmchat data make                           write the shipped Alpaca-format dataset
  llmchat finetune --config configs/train/smollm2-lora.yaml --set max_steps=5
  llmchat runs start --preset smollm2-lora --set run_name=demo --set max_steps=20   a queued, detached run
  llmchat evaluate --models smollm2-chat,smollm2-lora
  llmchat export smollm2-lora --merge
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmchat",
        description="Self-hosted chat for open language models, and the fine-tuning that makes them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
