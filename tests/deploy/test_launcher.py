"""`llmchat up` (what `make run` ends with): a worker and the API under gunicorn come up together, a chat works
end to end, and Ctrl-C stops both processes — no server is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.servers import PROJECT_ROOT, free_port, wait_until_ok, worker_env
from tests.support.tiny_model import make_tiny_model, write_models_yaml

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _read_until(process: subprocess.Popen, marker: str) -> str:
    """The process's output up to the line holding `marker` (the launcher's own timeouts bound the wait)."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return line
    raise AssertionError("llmchat up exited before it was ready:\n" + "".join(lines)[-4000:])


def _start_up(tmp_path) -> tuple[subprocess.Popen, int, int]:
    """`llmchat up` on a tiny chat model, read until it says it is running."""
    model = make_tiny_model(tmp_path / "tiny")
    models_yaml = write_models_yaml(
        tmp_path / "models.yaml",
        [
            {
                "id": "tiny-chat",
                "kind": "chat",
                "source": str(model),
                "prompt_style": "chat",
                "context_length": 512,
                "default_params": {"max_tokens": 5, "temperature": 0.0},
            },
        ],
    )
    app_yaml = tmp_path / "app.yaml"
    app_yaml.write_text(yaml.safe_dump({"database_url": f"sqlite:///{tmp_path / 'chat.db'}"}))
    port, worker_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "llmchat.cli",
        "up",
        "--port",
        str(port),
        "--worker-port",
        str(worker_port),
        "--models-config",
        str(models_yaml),
        "--config",
        str(app_yaml),
    ]
    up = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=worker_env(models_dir=tmp_path / "models"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # the launcher says where the app is once both servers answer
    banner = _read_until(up, "llmchat is running")
    assert f"open http://127.0.0.1:{port}" in banner
    return up, port, worker_port


def _chat(port: int) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/api/chat", json={"message": "hi", "model": "tiny-chat"}, timeout=60)


def _worker_pid(up: subprocess.Popen) -> int:
    for pid in _children(up.pid):
        if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
            return pid
    raise AssertionError("no worker among the launcher's children")


def test_up_serves_a_chat_and_ctrl_c_stops_everything(tmp_path):
    up, port, _ = _start_up(tmp_path)
    try:
        wait_until_ok(f"http://127.0.0.1:{port}/api/health", up, timeout=10)
        children = _children(up.pid)
        assert len(children) == 2  # the worker and gunicorn's arbiter
        reply = _chat(port)
        assert reply.status_code == 200 and reply.json()["message"]["status"] == "complete"

        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
        assert up.returncode == 0, output
        assert "stopping" in output
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if up.poll() is None:
            up.kill()


def test_a_killed_worker_is_restarted_and_the_api_stays_up(tmp_path):
    up, port, worker_port = _start_up(tmp_path)
    try:
        assert _chat(port).json()["message"]["status"] == "complete"
        first_worker = _worker_pid(up)
        os.kill(first_worker, signal.SIGKILL)
        notice = _read_until(up, "restarting it in")
        assert "model worker exited" in notice
        # while the worker is gone the chat API answers: history reads work, a chat is a 503 with the message kept
        assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/conversations", timeout=5).status_code == 200
        _read_until(up, "starting the model worker again")
        wait_until_ok(f"http://127.0.0.1:{worker_port}/health", up, timeout=120)
        assert up.poll() is None
        assert _worker_pid(up) != first_worker
        reply = _chat(port)
        assert reply.status_code == 200 and reply.json()["message"]["status"] == "complete"
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
