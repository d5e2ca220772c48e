"""`llmchat up`: the whole app on one machine — a model worker and the chat API — as `make run` starts it.

Both run as child processes under a small supervisor: a server that dies after it was up is started again with
backoff (1 s, 2 s, 4 s … at most 30 s), and never takes the other down with it — the chat API keeps serving history
and saving messages while the model worker restarts. Ctrl-C (or SIGTERM) stops both and waits for them, so no stray
server is left.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class StackConfig:
    host: str = "127.0.0.1"
    port: int = 5000
    worker_host: str = "127.0.0.1"
    worker_port: int = 8001
    models_config: str | None = None
    app_config: str | None = None
    worker_start_timeout_s: float = 300.0
    restart_backoff_s: tuple[float, ...] = (
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        30.0,
    )  # waits before restart 1, 2, …; then the last
    stable_after_s: float = 60.0  # a server up this long has its backoff reset

    @property
    def worker_url(self) -> str:
        return f"http://{self.worker_host}:{self.worker_port}"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "up",
        help="start a model worker and the chat API together (what `make run` does)",
        description="Start the model worker, wait until its models are loaded, then the chat API under "
        "gunicorn. Ctrl-C stops both.\n\nexample:\n  llmchat up --port 5000 --worker-port 8001",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address of the web app (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port of the web app (default 5000)")
    parser.add_argument("--worker-port", type=int, default=8001, help="port of the model worker (default 8001)")
    parser.add_argument("--models-config", help="model registry for the worker (default configs/models.yaml)")
    parser.add_argument("--config", dest="app_config", help="app config for the API (default configs/app.yaml)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    config = StackConfig(
        host=args.host,
        port=args.port,
        worker_port=args.worker_port,
        models_config=args.models_config,
        app_config=args.app_config,
    )
    return run_stack(config)


def _llmchat(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "llmchat.cli", *arguments]


def _worker_command(config: StackConfig) -> list[str]:
    command = _llmchat("worker", "--host", config.worker_host, "--port", str(config.worker_port))
    if config.models_config:
        command += ["--config", config.models_config]
    return command


def _api_command(config: StackConfig) -> list[str]:
    command = _llmchat("serve", "--host", config.host, "--port", str(config.port), "--worker-url", config.worker_url)
    if config.app_config:
        command += ["--config", config.app_config]
    return command


def _wait_until_healthy(url: str, process: subprocess.Popen, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Supervised:
    """One child server: started, watched, and started again with backoff when it dies."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], config: StackConfig):
        self.name = name
        self.command = command
        self.env = env
        self.config = config
        self.process: subprocess.Popen | None = None
        self.restarts = 0  # consecutive ones, reset once the server stayed up `stable_after_s`
        self.started_at = 0.0
        self.restart_at: float | None = None

    def start(self) -> subprocess.Popen:
        self.process = subprocess.Popen(self.command, env=self.env)
        self.started_at = time.monotonic()
        self.restart_at = None
        return self.process

    def watch(self, now: float) -> None:
        """Called every half second: notices a death and restarts when its backoff has passed."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                print(f"llmchat: starting the {self.name} again (restart {self.restarts})", flush=True)
                self.start()
            return
        if self.process is None or self.process.poll() is None:
            if now - self.started_at >= self.config.stable_after_s:
                self.restarts = 0
            return
        delay = self.config.restart_backoff_s[min(self.restarts, len(self.config.restart_backoff_s) - 1)]
        self.restarts += 1
        self.restart_at = now + delay
        print(
            f"llmchat: the {self.name} exited (code {self.process.returncode}); restarting it in {delay:g} s",
            file=sys.stderr,
            flush=True,
        )


def llama_server_note(models_config: str | None) -> str | None:
    """One line when a configured model runs on llama.cpp and no llama-server is built: `make run` never builds it
    (minutes of compiling); the worker starts anyway and answers 503 for that model until it is built."""
    from llmchat.models.registry import load_registry
    from llmchat.models.specs import LLAMA_CPP, ConfigError
    from llmchat.worker.engines.llamacpp_process import LlamaServerMissing, find_llama_server
    from llmchat.worker.settings import WorkerSettings

    try:
        registry = load_registry(models_config)
        wanting = [spec.id for spec in registry.configured() if spec.engine == LLAMA_CPP]
        if wanting:
            find_llama_server(WorkerSettings.from_section(registry.worker_section).llama_server)
    except LlamaServerMissing as exc:
        return f"llmchat: {', '.join(wanting)} on engine llama.cpp: {exc}"
    except (ConfigError, OSError):  # the worker reports a bad config itself, in more words
        return None
    return None


def run_stack(config: StackConfig) -> int:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    worker = Supervised("model worker", _worker_command(config), env, config)
    api = Supervised("chat API", _api_command(config), env, config)
    # SIGTERM behaves like Ctrl-C so `kill` stops the children too; SIGINT is set explicitly because a shell
    # that starts us in the background leaves it ignored
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        note = llama_server_note(config.models_config)
        if note:
            print(note, flush=True)
        print(f"llmchat: starting the model worker on {config.worker_url} …", flush=True)
        # a worker that never came up is a set-up problem (a bad models.yaml, a missing model): say so and stop
        if not _wait_until_healthy(f"{config.worker_url}/health", worker.start(), config.worker_start_timeout_s):
            print("llmchat: the model worker did not start (see its log above)", file=sys.stderr)
            return 1
        app_url = f"http://{config.host}:{config.port}"
        if not _wait_until_healthy(f"{app_url}/api/health", api.start(), 60):
            print("llmchat: the chat API did not start (see its log above)", file=sys.stderr)
            return 1
        print(f"\nllmchat is running: open {app_url}  (Ctrl-C stops it)\n", flush=True)
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            worker.watch(now)
            api.watch(now)
    except KeyboardInterrupt:
        print("\nllmchat: stopping …", flush=True)
        return 0
    finally:
        _stop([server.process for server in (worker, api) if server.process is not None])
