"""`python -m llmchat.worker [--config ...] [--port ...]`: the same as `llmchat worker`, without the other commands."""

from __future__ import annotations

import argparse
import sys

from llmchat.worker.commands import add_worker_arguments, run_worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmchat.worker", description="Serve models over the OpenAI API.")
    add_worker_arguments(parser)
    return run_worker(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
