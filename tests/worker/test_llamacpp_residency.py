"""The llama.cpp engine's child process under the pool's residency rules: loaded on demand, unloaded for another
model (its llama-server stops), never left behind when the worker is SIGKILLed; and a worker without the binary
still lists the model and answers a request for it with a 503 that names `make llama-server`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import psutil
import pytest

from llmchat.models.config_file import read_config
from llmchat.models.gguf_writer import write_llama_gguf
from llmchat.models.registry import ConfigError
from tests.support.llama_server import llama_server_binary, llama_server_children
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml
from tests.support.waiting import wait_for

MESSAGES = [{"role": "user", "content": "Hello!"}]


@pytest.fixture(scope="module")
def gguf(tmp_path_factory):
    root = tmp_path_factory.mktemp("llamacpp-residency")
    hf = make_tiny_model(root / "hf", seed=7, max_position_embeddings=256)
    return write_llama_gguf(hf, root / "tiny-Q8_0.gguf", "Q8_0")


def two_engines_config(folder, gguf, **worker):
    """The same file on OpenVINO (read as it is) and on llama.cpp: two engines."""
    entries = [
        {"id": "tiny-ov", "kind": "chat", "source": str(gguf), "engine": "openvino"},
        {"id": "tiny-lc", "kind": "chat", "source": str(gguf), "engine": "llama.cpp"},
    ]
    return write_models_yaml(folder / "models.yaml", entries, worker={"max_batch_size": 2, **worker})


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def answer(client, model: str) -> httpx.Response:
    body = {"model": model, "messages": MESSAGES, "max_tokens": 4, "ignore_eos": True, "temperature": 0}
    return client.post("/v1/chat/completions", json=body)


@pytest.mark.integration
def test_max_loaded_models_alternates_and_keeps_one_child(tmp_path, gguf):
    llama_server_binary()
    config = two_engines_config(tmp_path, gguf, max_loaded_models=1, preload=False)
    with start_worker(config, models_dir=tmp_path / "models", timeout=240) as worker:
        with httpx.Client(base_url=worker.url, timeout=240) as client:
            assert llama_server_children(worker.process.pid) == []  # nothing loads before its first request
            pids = set()
            for model in ("tiny-lc", "tiny-ov", "tiny-lc", "tiny-ov", "tiny-lc"):
                response = answer(client, model)
                assert response.status_code == 200, response.text
                assert response.json()["usage"]["completion_tokens"] == 4
                children = llama_server_children(worker.process.pid)
                assert len(children) == (1 if model == "tiny-lc" else 0), model
                pids.update(child.pid for child in children)
                assert client.get("/health").json()["models"] == [model]
            assert len(pids) == 3  # a new child for each load; the old one is gone
            current = {child.pid for child in llama_server_children(worker.process.pid)}
            assert [pid for pid in pids - current if running(pid)] == []
            unloaded = client.post("/v1/models/tiny-lc/unload", json={})
            assert unloaded.status_code == 200 and unloaded.json()["unloaded"] == ["tiny-lc"]
            assert llama_server_children(worker.process.pid) == []
            assert client.get("/health").json()["residency"]["unloads"] >= 5


@pytest.mark.integration
def test_sigkill_of_the_worker_leaves_no_llama_server(tmp_path, gguf):
    llama_server_binary()
    entries = [{"id": "tiny-lc", "kind": "chat", "source": str(gguf), "engine": "llama.cpp"}]
    config = write_models_yaml(tmp_path / "models.yaml", entries)
    with start_worker(config, models_dir=tmp_path / "models", timeout=240) as worker:
        child = psutil.Process(httpx.get(worker.url + "/health").json()["engines"][0]["llama_server"]["pid"])
        assert child.is_running()
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(10)

        wait_for(lambda: not running(child.pid), timeout=10, what="llama-server to die with its worker")


@pytest.mark.integration
def test_without_the_binary_the_model_is_listed_and_answers_503(tmp_path, gguf):
    missing = tmp_path / "no" / "llama-server"
    config = two_engines_config(tmp_path, gguf)
    env = {"LLMCHAT_LLAMA_SERVER": str(missing)}
    with start_worker(config, models_dir=tmp_path / "models", timeout=240, env=env) as worker:
        with httpx.Client(base_url=worker.url, timeout=240) as client:
            rows = {row["id"]: row for row in client.get("/v1/models").json()["data"]}
            assert rows["tiny-lc"]["engine"] == "llama.cpp" and rows["tiny-lc"]["loaded"] is False
            assert rows["tiny-ov"]["loaded"] is True  # the worker serves the rest
            response = answer(client, "tiny-lc")
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "model_unavailable" and error["param"] == "model"
            assert "make llama-server" in error["message"] and str(missing) in error["message"]
            assert answer(client, "tiny-ov").status_code == 200
        assert "not preloading tiny-lc" in worker.log()
    listing = subprocess.run(
        [sys.executable, "-m", "llmchat.cli", "models", "list", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "LLMCHAT_MODELS_DIR": str(tmp_path / "models")},
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    assert any(line.startswith("tiny-lc ") and "llama.cpp" in line for line in listing.stdout.splitlines())


def test_a_lora_entry_cannot_ask_for_llama_cpp(tmp_path, tiny_model_path, tiny_lora_paths):
    entries = [
        {"id": "tiny-base", "kind": "base", "source": str(tiny_model_path)},
        {
            "id": "lora-on-lc",
            "kind": "lora",
            "base": "tiny-base",
            "adapter": str(tiny_lora_paths[0]),
            "engine": "llama.cpp",
        },
    ]
    config = write_models_yaml(tmp_path / "models.yaml", entries)
    with pytest.raises(ConfigError, match=r"lora-on-lc.*field 'engine': llama\.cpp takes no LoRA adapters"):
        read_config(config, tmp_path)


def test_a_lora_cannot_sit_on_a_llama_cpp_base(tmp_path, gguf, tiny_lora_paths):
    entries = [
        {"id": "tiny-lc", "kind": "chat", "source": str(gguf), "engine": "llama.cpp"},
        {"id": "tiny-lc-lora", "kind": "lora", "base": "tiny-lc", "adapter": str(tiny_lora_paths[0])},
    ]
    config = write_models_yaml(tmp_path / "models.yaml", entries)
    with pytest.raises(ConfigError, match=r"runs on llama\.cpp, which takes no LoRA"):
        read_config(config, tmp_path)


def test_llmchat_up_says_what_to_build_when_the_binary_is_missing(tmp_path, gguf, monkeypatch):
    from llmchat.launcher import llama_server_note

    monkeypatch.setenv("LLMCHAT_LLAMA_SERVER", str(tmp_path / "no" / "llama-server"))
    on_llama = two_engines_config(tmp_path / "a", gguf)
    note = llama_server_note(str(on_llama))
    assert note.startswith("llmchat: tiny-lc on engine llama.cpp:") and "make llama-server" in note
    others = write_models_yaml(tmp_path / "b" / "models.yaml", [{"id": "tiny", "kind": "chat", "source": str(gguf)}])
    assert llama_server_note(str(others)) is None
