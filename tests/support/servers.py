"""Start real server processes for tests: the model worker as a subprocess on a free port.

Used by the worker, API and training tests alike; keep `start_worker`'s signature stable.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; there is a small race until the server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class WorkerProcess:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Everything the worker printed so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def worker_env(env: dict[str, str] | None = None, models_dir: Path | None = None) -> dict[str, str]:
    """The environment a test worker runs in: offline, one torch thread, optional models folder."""
    merged = dict(os.environ)
    merged.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "LLMCHAT_WORKER_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if models_dir is not None:
        merged["LLMCHAT_MODELS_DIR"] = str(models_dir)
    merged.update(env or {})
    return merged


def wait_until_ok(url: str, process: subprocess.Popen, timeout: float, log: Callable[[], str] = lambda: "") -> None:
    """Poll `url` until it answers 200; fail early (with the end of the log) if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:4]} exited with {process.returncode}:\n{log()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s:\n{log()[-4000:]}")


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it does not exit in `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def run_server(
    command: list[str], url: str, health_path: str, env: dict[str, str], timeout: float, log_prefix: str
) -> Iterator[tuple[subprocess.Popen, Path]]:
    """Run `command` (a server listening at `url`) with its output in a log file; yield once `health_path` answers."""
    log_path = Path(tempfile.mkdtemp(prefix=log_prefix)) / "server.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_until_ok(
            url + health_path, process, timeout, lambda: log_path.read_text(encoding="utf-8", errors="replace")
        )
        yield process, log_path
    finally:
        stop_process(process)


@contextlib.contextmanager
def start_worker(
    config_path: Path,
    *,
    env: dict[str, str] | None = None,
    models_dir: Path | None = None,
    timeout: float = 120.0,
    extra_args: list[str] | None = None,
) -> Iterator[WorkerProcess]:
    """Run `python -m llmchat.worker --config CONFIG --port FREE` until the block ends; wait for /health first."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "llmchat.worker",
        "--config",
        str(config_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(extra_args or []),
    ]
    with run_server(command, url, "/health", worker_env(env, models_dir), timeout, "llmchat-worker-") as (process, log):
        yield WorkerProcess(url=url, process=process, log_path=log)
