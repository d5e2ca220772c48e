"""llama.cpp behind its own OpenAI-compatible HTTP server, for bench/real_shapes.py: `llama-server` (llama.cpp's
binary, batching `--parallel 8` slots) or llama-cpp-python's `python -m llama_cpp.server` from a bench-only venv
(one request at a time). Both answer the same streamed /v1/completions the worker does."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port, run_server


@dataclass(frozen=True)
class LlamaCpp:
    """How to start llama.cpp: `kind` is "llama-server" or "llama-cpp-python"; `program` its binary / python."""

    kind: str
    program: str


def find_llama_cpp(llama_server: str | None, llama_cpp_python: str | None) -> LlamaCpp | None:
    """The llama.cpp to measure: --llama-server, else llama-server on PATH, else --llama-cpp-python; or None."""
    server = llama_server or shutil.which("llama-server")
    if server:
        return LlamaCpp("llama-server", server)
    if llama_cpp_python and Path(llama_cpp_python).is_file():
        return LlamaCpp("llama-cpp-python", llama_cpp_python)
    return None


@contextlib.contextmanager
def serve_gguf(llama: LlamaCpp, gguf: Path, threads: int, context: int, parallel: int) -> Iterator[tuple]:
    """(url, process) of a llama.cpp server on `gguf`; every slot holds a prompt of `context` tokens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if llama.kind == "llama-server":
        command = [
            llama.program,
            *("-m", str(gguf), "-t", str(threads), "-tb", str(threads)),
            *("-c", str(context * parallel), "--parallel", str(parallel), "--host", "127.0.0.1", "--port", str(port)),
        ]
        health = "/health"
    else:
        command = [
            llama.program,
            *("-m", "llama_cpp.server", "--model", str(gguf), "--n_threads", str(threads)),
            *("--n_ctx", str(context), "--host", "127.0.0.1", "--port", str(port)),
        ]
        health = "/v1/models"
    with run_server(command, url, health, dict(os.environ), 900, "llama-cpp-") as (process, _log):
        yield url, process
