"""The llama-server binary for the tests of the llama.cpp engine: the one the worker would find ($LLMCHAT_LLAMA_SERVER,
var/llama.cpp/bin/ as `make llama-server` builds it, PATH). Without one those tests skip, unless
LLMCHAT_REQUIRE_LLAMA_SERVER=1 (set by .ci/run, which builds it first): then they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmchat.worker.engines.llamacpp_process import LlamaServerMissing, find_llama_server


def llama_server_binary() -> Path:
    try:
        return find_llama_server()
    except LlamaServerMissing as exc:
        if os.environ.get("LLMCHAT_REQUIRE_LLAMA_SERVER") == "1":
            pytest.fail(f"LLMCHAT_REQUIRE_LLAMA_SERVER=1 but {exc}")
        pytest.skip(str(exc))


def llama_server_children(pid: int) -> list:
    """The llama-server processes under process `pid` (psutil.Process objects)."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [child for child in children if _named_llama_server(child)]


def _named_llama_server(process) -> bool:
    import psutil

    try:
        return Path(process.exe()).name == "llama-server"
    except psutil.Error:
        return False
