"""Runs `llmchat ...` in-process through the real entry point (llmchat.cli.main)."""

from __future__ import annotations

from llmchat.cli import main


def run_cli(argv: list[str]) -> int:
    return main(argv)
