"""`source: ollama:NAME[:TAG]`: models read from an Ollama store laid out as Ollama writes it
(tests/support/ollama_store.py), the model layer a real GGUF of the tiny model."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from llmchat.models.config_file import read_config
from llmchat.models.gguf_writer import write_llama_gguf
from llmchat.models.ollama import find_model, parse_ollama
from llmchat.models.sources import resolve_source
from llmchat.models.specs import ConfigError, SourceUnavailable
from tests.support.ollama_store import add_ollama_model
from tests.support.servers import PROJECT_ROOT, start_worker, worker_env
from tests.support.tiny_model import write_models_yaml

PARAMS = {"stop": ["<|im_end|>"], "temperature": 0.2, "top_p": 0.5, "repeat_penalty": 1.1, "num_ctx": 256}


@pytest.fixture(scope="module")
def store(tiny_model_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("ollama")
    gguf = write_llama_gguf(tiny_model_path, root / "tiny.gguf")
    store = root / "models"
    add_ollama_model(store, "tiny", gguf, PARAMS)
    add_ollama_model(store, "tiny", write_llama_gguf(tiny_model_path, root / "q8.gguf", quant="Q8_0"), tag="q8")
    add_ollama_model(store, "someone/tiny", gguf, {"temperature": 5.0, "num_predict": 64})
    return store


@pytest.fixture
def in_store(store, monkeypatch):
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    return store


def config_with(tmp_path, entries):
    return read_config(write_models_yaml(tmp_path / "models.yaml", entries), tmp_path / "models")


def test_the_tag_defaults_to_latest_and_the_blob_is_served_as_a_gguf_path(in_store, tmp_path):
    spec = config_with(tmp_path, [{"id": "t", "kind": "chat", "source": "ollama:tiny"}]).specs[0]
    path = resolve_source(spec)
    assert path.suffix == ".gguf" and path.parent == tmp_path / "models" / ".cache" / "ollama"
    assert path.resolve() == find_model(parse_ollama("tiny:latest")).blob
    assert path.resolve().name.startswith("sha256-")
    q8 = resolve_source(config_with(tmp_path, [{"id": "q", "kind": "chat", "source": "ollama:tiny:q8"}]).specs[0])
    assert q8.name == "tiny-q8.gguf" and q8.resolve() != path.resolve()


def test_the_params_layer_gives_the_defaults_and_the_entry_wins(in_store, tmp_path):
    specs = config_with(
        tmp_path,
        [
            {"id": "a", "kind": "chat", "source": "ollama:tiny"},
            {"id": "b", "kind": "chat", "source": "ollama:tiny", "default_params": {"temperature": 0.9}},
            {"id": "c", "kind": "chat", "source": "ollama:tiny", "context_length": 128},
            {"id": "d", "kind": "chat", "source": "ollama:someone/tiny"},
        ],
    ).specs
    assert specs[0].default_params.as_dict() == {
        "temperature": 0.2,
        "top_p": 0.5,
        "max_tokens": 256,
        "repetition_penalty": 1.1,
    }
    assert specs[0].context_length == 256
    assert specs[1].default_params.temperature == 0.9 and specs[1].default_params.top_p == 0.5
    assert specs[2].context_length == 128
    # temperature 5 is beyond llmchat's limit: the global default stays; num_predict is max_tokens
    assert specs[3].default_params.temperature == 0.7 and specs[3].default_params.max_tokens == 64


def test_a_model_not_in_the_store_is_a_config_error_naming_the_store(in_store, tmp_path):
    with pytest.raises(ConfigError) as error:
        config_with(tmp_path, [{"id": "m", "kind": "chat", "source": "ollama:missing:7b"}])
    message = str(error.value)
    assert "models[0] (id 'm'): field 'source'" in message
    assert f"no Ollama model missing:7b in {in_store}" in message and "ollama pull missing:7b" in message


def test_a_blob_removed_later_is_said_when_resolving(monkeypatch, tmp_path, tiny_model_path):
    store = tmp_path / "store"
    add_ollama_model(store, "gone", write_llama_gguf(tiny_model_path, tmp_path / "g.gguf"))
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    spec = config_with(tmp_path, [{"id": "g", "kind": "chat", "source": "ollama:gone"}]).specs[0]
    for blob in (store / "blobs").iterdir():
        blob.unlink()
    with pytest.raises(SourceUnavailable, match=r"the model blob .* is missing"):
        resolve_source(spec)


@pytest.mark.parametrize("source", ["ollama:", "ollama:a:b:c", "ollama:x:", "ollama:a/b/c/d", "ollama:bad name"])
def test_a_malformed_ollama_source_is_a_config_error(in_store, tmp_path, source):
    with pytest.raises(ConfigError, match=r"models\[0\] \(id 'm'\): field 'source': expected NAME\[:TAG\]"):
        config_with(tmp_path, [{"id": "m", "kind": "chat", "source": source}])


@pytest.mark.integration
def test_models_list_shows_what_ollama_has(store, tmp_path, tiny_model_path):
    config = write_models_yaml(tmp_path / "models.yaml", [{"id": "t", "kind": "chat", "source": str(tiny_model_path)}])
    result = subprocess.run(
        [sys.executable, "-m", "llmchat.cli", "models", "list", "--config", str(config), "--models-dir", str(tmp_path)],
        cwd=PROJECT_ROOT,
        env=worker_env({"OLLAMA_MODELS": str(store)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split(f"Ollama models in {store}: 3")[1].splitlines()[1:]
    assert [line.split()[0] for line in listed] == ["someone/tiny:latest", "tiny:latest", "tiny:q8"]
    assert all(line.endswith(f"source: ollama:{line.split()[0]}") for line in listed)
    assert " MB" in listed[1]


@pytest.mark.integration
def test_worker_answers_a_chat_from_an_ollama_model(store, tmp_path, tiny_model_path):
    config = write_models_yaml(
        tmp_path / "models.yaml",
        [
            {"id": "from-ollama", "kind": "chat", "source": "ollama:tiny"},
            {"id": "from-folder", "kind": "chat", "source": str(tiny_model_path)},
        ],
        worker={"engine": "transformers"},
    )
    with start_worker(config, env={"OLLAMA_MODELS": str(store)}, models_dir=tmp_path / "models") as worker:
        replies = []
        for model in ("from-ollama", "from-folder"):
            # the params layer's repeat_penalty 1.1 would be this entry's default: ask for the same sampling
            sampling = {"max_tokens": 12, "temperature": 0, "repetition_penalty": 1.0}
            body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], **sampling}
            reply = httpx.post(f"{worker.url}/v1/chat/completions", json=body, timeout=120)
            assert reply.status_code == 200, reply.text
            replies.append(reply.json()["choices"][0]["message"]["content"])
        listed = {row["id"]: row for row in httpx.get(f"{worker.url}/v1/models", timeout=30).json()["data"]}
    # the F32 GGUF is the folder's model exactly: the same greedy reply, through the GGUF's own chat template
    assert replies[0] == replies[1] and replies[0]
    assert listed["from-ollama"]["context_length"] == 256
    assert listed["from-ollama"]["default_params"]["temperature"] == 0.2


def test_a_recipe_can_name_a_source_as_its_base_model(in_store, tmp_path, monkeypatch):
    from llmchat.models.loading import resolve_base_path
    from llmchat.training.config import build_config

    monkeypatch.setenv("LLMCHAT_MODELS_DIR", str(tmp_path / "models"))
    path = resolve_base_path(build_config({"base_model": "ollama:tiny"}).base_model)
    assert path.suffix == ".gguf" and path.resolve() == find_model(parse_ollama("tiny")).blob
    with pytest.raises(SourceUnavailable, match="llmchat models pull test-org/never-pulled"):
        resolve_base_path("hf:test-org/never-pulled")  # tests run with HF_HUB_OFFLINE=1: nothing to pull from
    with pytest.raises(ValueError, match="base_model: not a Hub repo id"):
        build_config({"base_model": "hf:a/b/c"})


def test_the_link_follows_a_later_ollama_pull_of_the_tag(monkeypatch, tmp_path, tiny_model_path):
    store = tmp_path / "store"
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    add_ollama_model(store, "tiny", write_llama_gguf(tiny_model_path, tmp_path / "a.gguf"))
    spec = config_with(tmp_path, [{"id": "t", "kind": "chat", "source": "ollama:tiny"}]).specs[0]
    first = resolve_source(spec).resolve()
    add_ollama_model(store, "tiny", write_llama_gguf(tiny_model_path, tmp_path / "b.gguf", quant="Q8_0"))
    link = resolve_source(spec)
    assert link.resolve() != first and link.resolve() == find_model(parse_ollama("tiny")).blob
