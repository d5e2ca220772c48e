"""`source: hf:ORG/NAME` and `llmchat models pull`, against a stand-in hub on loopback (tests/support/fake_hub.py).

The pulls run the real CLI in a subprocess with HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE set, because
huggingface_hub reads them once at import; the workers are real worker processes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from llmchat.models.config_file import read_config
from llmchat.models.gguf_writer import write_llama_gguf
from llmchat.models.specs import ConfigError
from tests.support.fake_hub import FakeHub, Repo
from tests.support.servers import PROJECT_ROOT, start_worker, worker_env
from tests.support.tiny_model import write_models_yaml

REPO = "test-org/tiny"
GGUF_REPO = "test-org/tiny-gguf"
BIG_REPO = "test-org/big"  # weights over huggingface_hub's 10 MiB download chunk: a dropped transfer resumes
CHUNK = 10 * 1024 * 1024
MODEL_FILES = {
    "chat_template.jinja",
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
}
# what a real repo carries beside the transformers weights, which a pull must leave on the hub
OTHER_FORMATS = {"onnx/model.onnx": b"onnx" * 100, "original/consolidated.00.pth": b"pth" * 100, "README.md": b"# tiny"}


@pytest.fixture(scope="module")
def hub(tiny_model_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gguf-repo")
    ggufs = {
        "tiny-f32.gguf": write_llama_gguf(tiny_model_path, folder / "f32.gguf").read_bytes(),
        "tiny-q8.gguf": write_llama_gguf(tiny_model_path, folder / "q8.gguf", quant="Q8_0").read_bytes(),
    }
    hub = FakeHub(
        {
            REPO: Repo.from_folder(tiny_model_path, OTHER_FORMATS),
            GGUF_REPO: Repo.from_files({**ggufs, "README.md": b"# ggufs"}),
            BIG_REPO: Repo.from_files({"config.json": b"{}", "model.safetensors": big_safetensors(folder / "big")}),
        }
    ).start()
    yield hub
    hub.stop()


def big_safetensors(path: Path) -> bytes:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"weight": np.random.default_rng(0).standard_normal(3 * 1024 * 1024, dtype=np.float32)}, path)
    return path.read_bytes()


def hub_env(hub: FakeHub, hf_home: Path, offline: bool = False) -> dict[str, str]:
    return {"HF_ENDPOINT": hub.url, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1" if offline else "0"}


def llmchat(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llmchat.cli", *args],
        cwd=PROJECT_ROOT,
        env=worker_env(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot_files(hf_home: Path, repo_id: str) -> set[str]:
    folder = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    return {path.relative_to(snapshot).as_posix() for snapshot in folder.iterdir() for path in snapshot.rglob("*")}


@pytest.fixture(scope="module")
def pulled_home(hub, tmp_path_factory) -> Path:
    """An HF_HOME into which `llmchat models pull test-org/tiny` has run once."""
    home = tmp_path_factory.mktemp("hf-home")
    result = llmchat("models", "pull", REPO, env=hub_env(hub, home))
    assert result.returncode == 0, result.stderr
    assert f"source: hf:{REPO}" in result.stdout
    return home


@pytest.mark.integration
def test_pull_takes_only_the_files_the_model_needs(hub, pulled_home):
    assert snapshot_files(pulled_home, REPO) == MODEL_FILES
    fetched = {request.path.rsplit("/", 1)[-1] for request in hub.file_gets() if REPO in request.path}
    assert fetched >= MODEL_FILES and not fetched & {"model.onnx", "consolidated.00.pth", "README.md"}


@pytest.mark.integration
def test_a_second_pull_is_served_from_the_cache(hub, pulled_home):
    before = len(hub.file_gets())
    result = llmchat("models", "pull", f"hf:{REPO}", env=hub_env(hub, pulled_home))
    assert result.returncode == 0, result.stderr
    assert len(hub.file_gets()) == before


@pytest.mark.integration
def test_a_dropped_download_resumes_where_it_stopped(hub, tmp_path):
    hub.cut_once("model.safetensors", CHUNK + 4096)  # the connection drops after the first chunk and a bit
    result = llmchat("models", "pull", BIG_REPO, env=hub_env(hub, tmp_path))
    assert result.returncode == 0, result.stderr
    gets = [
        request
        for request in hub.file_gets()
        if request.path.endswith("/model.safetensors") and BIG_REPO in request.path
    ]
    assert [request.range for request in gets] == [None, f"bytes={CHUNK}-"]
    snapshot = next((tmp_path / "hub" / "models--test-org--big" / "snapshots").iterdir())
    assert (snapshot / "model.safetensors").read_bytes() == hub.repos[BIG_REPO].files["model.safetensors"]


@pytest.mark.integration
def test_offline_with_nothing_cached_says_how_to_pull(hub, tmp_path):
    result = llmchat("models", "pull", REPO, env=hub_env(hub, tmp_path, offline=True))
    assert result.returncode == 1
    assert f"hf:{REPO} is not in the Hugging Face cache" in result.stderr
    assert f"llmchat models pull {REPO}" in result.stderr
    config = write_models_yaml(tmp_path / "models.yaml", [{"id": "from-hub", "kind": "chat", "source": f"hf:{REPO}"}])
    listed = llmchat("models", "list", "--config", str(config), env=hub_env(hub, tmp_path, offline=True))
    row = next(line for line in listed.stdout.splitlines() if line.startswith("from-hub"))
    assert f"missing: hf:{REPO} is not in the Hugging Face cache yet; run `llmchat models pull {REPO}`" in row


@pytest.mark.integration
def test_a_wrong_repo_or_revision_is_named(hub, tmp_path):
    result = llmchat("models", "pull", "test-org/nope", env=hub_env(hub, tmp_path))
    assert result.returncode == 1 and f"no model test-org/nope on {hub.url}" in result.stderr
    result = llmchat("models", "pull", REPO, "--revision", "v9", env=hub_env(hub, tmp_path))
    assert result.returncode == 1 and f"no revision 'v9' in {REPO}" in result.stderr


@pytest.mark.integration
def test_a_gguf_only_repo_needs_a_file_picked(hub, tmp_path):
    result = llmchat("models", "pull", GGUF_REPO, env=hub_env(hub, tmp_path))
    assert result.returncode == 1
    assert "holds only GGUF files" in result.stderr and "tiny-f32.gguf, tiny-q8.gguf" in result.stderr
    result = llmchat("models", "pull", GGUF_REPO, "--file", "tiny-q8.gguf", env=hub_env(hub, tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"source: hf:{GGUF_REPO}:tiny-q8.gguf" in result.stdout
    assert snapshot_files(tmp_path, GGUF_REPO) == {"tiny-q8.gguf"}


def chat(url: str, model: str) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 12, "temperature": 0}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=120)


@pytest.mark.integration
def test_worker_serves_a_pulled_model_offline(hub, pulled_home, tiny_model_path, tmp_path):
    config = write_models_yaml(
        tmp_path / "models.yaml",
        [
            {"id": "from-hub", "kind": "chat", "source": f"hf:{REPO}"},
            {"id": "from-folder", "kind": "chat", "source": str(tiny_model_path)},
            {"id": "never-pulled", "kind": "chat", "source": "hf:test-org/never-pulled"},
        ],
        worker={"engine": "transformers", "preload": False},  # a preloading worker would refuse to start
    )
    requests_before = len(hub.requests)
    with start_worker(config, env=hub_env(hub, pulled_home, offline=True), models_dir=tmp_path / "models") as worker:
        from_hub, from_folder = chat(worker.url, "from-hub"), chat(worker.url, "from-folder")
        assert from_hub.status_code == 200, from_hub.text
        assert from_hub.json()["choices"][0]["message"] == from_folder.json()["choices"][0]["message"]
        missing = chat(worker.url, "never-pulled")
        assert missing.status_code == 503
        error = missing.json()["error"]
        assert error["code"] == "model_unavailable" and "llmchat models pull test-org/never-pulled" in error["message"]
    assert len(hub.requests) == requests_before


@pytest.mark.integration
def test_worker_pulls_a_model_on_its_first_use(hub, tmp_path):
    config = write_models_yaml(
        tmp_path / "models.yaml",
        [{"id": "from-hub", "kind": "chat", "source": f"hf:{GGUF_REPO}:tiny-f32.gguf"}],
        worker={"engine": "transformers"},
    )
    with start_worker(config, env=hub_env(hub, tmp_path / "hf"), models_dir=tmp_path / "models") as worker:
        reply = chat(worker.url, "from-hub")
        assert reply.status_code == 200, reply.text
    assert snapshot_files(tmp_path / "hf", GGUF_REPO) == {"tiny-f32.gguf"}


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("hf:", "not a Hub repo id"),
        ("hf:a/b/c", "not a Hub repo id"),
        ("hf:org/name@", "an empty revision"),
        ("hf:org/name:weights.bin", "a .gguf file name"),
    ],
)
def test_a_bad_hub_source_is_a_config_error_naming_the_entry(tmp_path, source, problem):
    config = write_models_yaml(tmp_path / "models.yaml", [{"id": "bad", "kind": "chat", "source": source}])
    with pytest.raises(ConfigError, match=rf"models\[0\] \(id 'bad'\): field 'source': .*{problem}"):
        read_config(config, tmp_path)


def test_an_openvino_export_of_a_hub_model_stays_out_of_the_hf_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from llmchat.models.openvino_export import export_location, suffix

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = tmp_path / "hub" / "models--test-org--tiny" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    location = export_location(snapshot, None, tmp_path / "models" / ".cache", suffix("int8"))
    assert location.parent == tmp_path / "models" / ".cache" / "openvino"
    folder = tmp_path / "mine" / "tiny"
    folder.mkdir(parents=True)
    beside = export_location(folder, None, tmp_path / "models" / ".cache", suffix("int4"))
    assert beside == tmp_path / "mine" / "tiny.openvino-int4"
