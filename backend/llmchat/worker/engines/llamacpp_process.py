"""The llama-server child process of a llama.cpp engine: where the binary is, how it is started so that it never
outlives the worker, waiting for it to be ready, stopping it, and its memory.

One child serves one model: `--parallel N` slots (N = worker.max_batch_size) each with the model's whole context,
continuous batching, prompt caching per slot, on 127.0.0.1 and a free port. Its output goes to a log file whose tail
is shown when it fails to start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from llmchat.models.specs import SourceUnavailable
from llmchat.paths import PROJECT_ROOT

LLAMA_SERVER_ENV = "LLMCHAT_LLAMA_SERVER"
BUILT_LLAMA_SERVER = PROJECT_ROOT / "var" / "llama.cpp" / "bin" / "llama-server"  # where `make llama-server` puts it
READY_TIMEOUT_S = 300.0  # loading a multi-GB GGUF from a cold disk takes a while; a hung child does not wait forever
STOP_GRACE_S = 5.0
LOG_TAIL_CHARS = 3000
PR_SET_PDEATHSIG = 1


class LlamaServerMissing(SourceUnavailable):
    """No llama-server binary: a model on engine llama.cpp cannot load (the worker answers 503 model_unavailable)."""


def find_llama_server(configured: str | None = None) -> Path:
    """worker.llama_server, else $LLMCHAT_LLAMA_SERVER, else the one `make llama-server` built, else the PATH's."""
    for candidate in (configured, os.environ.get(LLAMA_SERVER_ENV)):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path
            raise LlamaServerMissing(f"llama-server not found at {path} (build it with `make llama-server`)")
    if BUILT_LLAMA_SERVER.is_file():
        return BUILT_LLAMA_SERVER
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    raise LlamaServerMissing(
        "llama-server is not built: run `make llama-server` (or set LLMCHAT_LLAMA_SERVER / worker.llama_server)"
    )


def llama_server_command(
    binary: Path, gguf: Path, port: int, *, parallel: int, context_length: int, threads: int
) -> list[str]:
    return [
        str(binary),
        *("-m", str(gguf), "--host", "127.0.0.1", "--port", str(port)),
        # -c is shared by the slots: each gets context_length
        *("--parallel", str(parallel), "-c", str(context_length * parallel)),
        *("--threads", str(threads), "--threads-batch", str(threads)),
        "--cont-batching",
        "--cache-prompt",
        # the host-memory cache of idle slots' prompts (8 GiB by default) would grow the worker's memory outside its
        # budget; a follow-up turn still finds its prompt in the slot that answered it
        *("--cache-ram", "0"),
        "--no-webui",
        "--metrics",  # its own Prometheus counters on loopback, for whoever looks at a child (tests, a person)
    ]


def _free_port() -> int:
    """A port nothing listens on now (the OS picks it; llama-server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent(parent_pid: int):
    """preexec_fn: the kernel sends the child SIGKILL when the worker dies, even by SIGKILL, so no llama-server is
    left behind holding gigabytes. PDEATHSIG follows the thread that forked: children are started on the pool's
    loader thread, which lives as long as the pool."""

    prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl  # looked up before the fork: no dlopen in the child

    def set_up() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the worker died before prctl took effect
            os._exit(1)

    return set_up


class LlamaServer:
    """One running llama-server; `url` answers once the constructor returns (else it raises with the log's tail)."""

    def __init__(
        self,
        binary: Path,
        gguf: Path,
        *,
        parallel: int,
        context_length: int,
        threads: int,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        handle, log_name = tempfile.mkstemp(prefix="llmchat-llama-server-", suffix=".log")
        self.log_path = Path(log_name)
        command = llama_server_command(
            binary, gguf, port, parallel=parallel, context_length=context_length, threads=threads
        )
        with os.fdopen(handle, "wb") as log_file:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        try:
            self._wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            return ""

    def _wait_ready(self, timeout_s: float) -> None:
        """Until /health answers 200 (503 while the model loads); RuntimeError if the child exits or takes too long."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"llama-server exited with {self.process.returncode} while loading:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"llama-server did not get ready within {timeout_s:.0f} s:\n{self.log_tail()}")

    def rss_bytes(self) -> int | None:
        import psutil

        try:
            return psutil.Process(self.pid).memory_info().rss
        except psutil.Error:  # it has exited
            return None

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; the log file goes with it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_GRACE_S)
        self.log_path.unlink(missing_ok=True)
