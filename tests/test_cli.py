"""`llmchat --help` is the map of the product: every command is listed, with examples, and starts instantly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from llmchat.cli import build_parser

COMMANDS = ("worker", "models", "serve", "up", "data", "finetune", "export", "evaluate")


@pytest.mark.integration
def test_help_lists_every_command_with_an_example():
    result = subprocess.run(
        [sys.executable, "-m", "llmchat.cli", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    listed = result.stdout.split("examples:")[0]
    examples = result.stdout.split("examples:")[1]
    for command in COMMANDS:
        assert f"    {command} " in listed, command
    for command in ("models prepare", "worker", "serve", "up", "data make", "finetune", "evaluate", "export"):
        assert f"llmchat {command}" in examples, command


@pytest.mark.integration
def test_help_does_not_import_the_heavy_libraries():
    code = "import sys; from llmchat.cli import build_parser; build_parser(); print(sorted(m for m in ('torch', 'transformers', 'flask', 'peft') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_no_command_prints_help_and_fails(capsys):
    from llmchat.cli import main

    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_every_command_has_a_handler():
    parser = build_parser()
    for words in (
        ["worker"],
        ["models", "list"],
        ["serve"],
        ["up"],
        ["data", "make"],
        ["finetune", "--config", "configs/train/smollm2-lora.yaml"],
        ["export", "run"],
        ["evaluate", "--models", "a,b"],
    ):
        assert callable(parser.parse_args(words).handler), words
