"""An HF folder on `engine: llama.cpp`: llama.cpp's own converter makes a GGUF of it once (F16 directly, Q4_0 through
llama-quantize), beside the folder with a stamp; the worker serves it from a llama-server child with the folder's
tokenizer and chat template, and `llmchat models export` makes or finds the same file."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from llmchat.models.gguf_file import read_gguf_info
from llmchat.models.gguf_writer import write_llama_gguf
from llmchat.models.llamacpp_gguf import MODEL_FILE, STAMP
from tests.support.llama_server import llama_server_binary, llama_server_children
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, smollm2_tokenizer, write_models_yaml
from tests.worker.helpers import reference_reply

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

MESSAGES = [{"role": "user", "content": "Hello! Who are you?"}]
SAME_TOKENS = 12


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    llama_server_binary()  # skip (or, in CI, fail) before building anything
    root = tmp_path_factory.mktemp("llamacpp-convert")
    # llama.cpp's converter knows real tokenizers only (it recognises their pre-tokenizer): SmolLM2's
    hf = make_tiny_model(root / "hf", seed=7, tokenizer=smollm2_tokenizer())
    # the same weights written by llmchat's own GGUF writer (gguf_writer.py), F16 rounded as the converter rounds
    own = write_llama_gguf(hf, root / "own-f16.gguf", "F16")
    entries = [
        {"id": "hf-f16", "kind": "chat", "source": str(hf), "engine": "llama.cpp", "weight_format": "fp16"},
        {"id": "hf-q4", "kind": "chat", "source": str(hf), "engine": "llama.cpp", "weight_format": "int4"},
        {"id": "own-f16", "kind": "chat", "source": str(own), "engine": "llama.cpp"},
    ]
    config = write_models_yaml(root / "models.yaml", entries, worker={"max_batch_size": 2, "preload": False})
    return root, hf, config


@pytest.fixture(scope="module")
def worker(files):
    root, _hf, config = files
    with start_worker(config, models_dir=root / "models", timeout=300) as running:
        yield running


def chat(client, model: str, **fields) -> dict:
    response = client.post(
        "/v1/chat/completions", json={"model": model, "messages": MESSAGES, "temperature": 0, **fields}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_folder_is_listed_with_the_gguf_type_it_will_be_served_in(client):
    rows = {row["id"]: row for row in client.get("/v1/models").json()["data"]}
    assert rows["hf-f16"]["engine"] == "llama.cpp" and rows["hf-f16"]["weight_format"] == "gguf F16"
    assert rows["hf-q4"]["engine"] == "llama.cpp" and rows["hf-q4"]["weight_format"] == "gguf Q4_0"


def test_an_f16_conversion_answers_as_the_same_weights_written_by_llmchat(files, worker, client):
    _root, hf, _config = files
    body = chat(client, "hf-f16", max_tokens=SAME_TOKENS, ignore_eos=True)
    assert body["usage"]["completion_tokens"] == SAME_TOKENS
    # the converter's tensors (llama's q/k rows permuted for llama.cpp's RoPE, tied output) and tokenizer make the
    # same greedy reply as the independent writer's file; HF generate is no reference here: with 49152 candidates
    # and random weights the top two logits are near-ties that float order flips (its first token does agree)
    own = chat(client, "own-f16", max_tokens=SAME_TOKENS, ignore_eos=True)
    assert body["choices"][0]["message"]["content"] == own["choices"][0]["message"]["content"]
    first = reference_reply(hf, MESSAGES, 1)
    assert body["choices"][0]["message"]["content"].startswith(first)
    gguf = hf.parent / f"{hf.name}.llama.cpp-F16" / MODEL_FILE
    assert read_gguf_info(gguf).weight_format == "gguf F16"
    assert (gguf.parent / STAMP).is_file()
    assert any(str(gguf) in " ".join(child.cmdline()) for child in llama_server_children(worker.process.pid))


def test_an_int4_entry_is_quantized_to_q4_0_by_llama_quantize(files, client):
    _root, hf, _config = files
    body = chat(client, "hf-q4", max_tokens=8, ignore_eos=True)
    assert body["usage"]["completion_tokens"] == 8 and body["choices"][0]["message"]["content"]
    gguf = hf.parent / f"{hf.name}.llama.cpp-Q4_0" / MODEL_FILE
    assert read_gguf_info(gguf).weight_format == "gguf Q4_0"
    # every layer's matrices are Q4_0 (llama-quantize keeps the embeddings, which are also the output, finer)
    from gguf import GGMLQuantizationType, GGUFReader

    layers = [t for t in GGUFReader(str(gguf)).tensors if t.name.startswith("blk.") and len(t.shape) == 2]
    assert layers and all(t.tensor_type == GGMLQuantizationType.Q4_0 for t in layers)


def test_models_export_finds_the_current_gguf_and_converts_nothing(files, client):
    root, hf, config = files
    chat(client, "hf-q4", max_tokens=1)  # converted by now, whatever the order the tests ran in
    gguf = hf.parent / f"{hf.name}.llama.cpp-Q4_0" / MODEL_FILE
    before = gguf.stat().st_mtime_ns
    done = subprocess.run(
        [sys.executable, "-m", "llmchat.cli", "models", "export", "hf-q4", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "LLMCHAT_MODELS_DIR": str(root / "models")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"llama.cpp GGUF of hf-q4: {gguf}" in done.stdout
    assert gguf.stat().st_mtime_ns == before


def test_a_folder_the_converter_cannot_read_fails_its_load_with_the_converters_reason(tmp_path):
    llama_server_binary()
    # a tokenizer trained here: llama.cpp's converter does not recognise its pre-tokenizer and refuses the folder
    hf = make_tiny_model(tmp_path / "own-tokenizer", seed=2)
    entries = [{"id": "odd", "kind": "chat", "source": str(hf), "engine": "llama.cpp", "weight_format": "fp16"}]
    config = write_models_yaml(tmp_path / "models.yaml", entries, worker={"preload": False})
    with start_worker(config, models_dir=tmp_path / "models", timeout=120) as running:
        with httpx.Client(base_url=running.url, timeout=120) as client:
            response = client.post("/v1/chat/completions", json={"model": "odd", "messages": MESSAGES})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "model_not_servable" and error["param"] == "model"
    assert "convert_hf_to_gguf.py failed" in error["message"], error
    assert "pre-tokenizer was not recognized" in error["message"], error
    assert not (tmp_path / "own-tokenizer.llama.cpp-F16" / MODEL_FILE).exists()  # nothing half-written is kept
