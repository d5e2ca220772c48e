"""A real worker on the OpenVINO engine serving GGUF files of the tiny model as they are: no export folder is
written, the chat template and the context length come from the file, answers are the model's. A GGUF whose
weights OpenVINO cannot read is rewritten as Q8_0 first; one of an architecture it cannot build is refused."""

from __future__ import annotations

import httpx
import pytest

from llmchat.models.gguf_writer import write_llama_gguf
from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_lora, make_tiny_model, write_models_yaml
from tests.worker.helpers import reference_reply

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

CONTEXT = 320  # not the tiny model's usual 512: it must come from the GGUF's metadata
SAME_TOKENS = 6
MESSAGES = [{"role": "user", "content": "Hello! Who are you?"}]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("gguf-worker")
    hf = make_tiny_model(root / "hf", seed=5, max_position_embeddings=CONTEXT)
    ggufs = root / "ggufs"
    written = {quant: write_llama_gguf(hf, ggufs / f"tiny-{quant}.gguf", quant) for quant in ("Q8_0", "Q4_0", "F32")}
    make_tiny_lora(hf, root / "lora")
    return root, hf, written


@pytest.fixture(scope="module")
def worker(files):
    root, _hf, ggufs = files
    entries = [
        {"id": f"tiny-{quant.lower()}", "kind": "chat", "source": str(path), "prompt_style": "chat"}
        for quant, path in ggufs.items()
    ]
    entries.append({"id": "tiny-q8_0-lora", "kind": "lora", "base": "tiny-q8_0", "adapter": str(root / "lora")})
    config = write_models_yaml(root / "models.yaml", entries, worker={"engine": "openvino", "max_batch_size": 4})
    with start_worker(config, models_dir=root / "models", timeout=240) as running:
        yield running


def chat(client, model: str, max_tokens: int = 12) -> dict:
    body = {"model": model, "messages": MESSAGES, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_gguf_is_read_directly_without_an_export(files, worker, client):
    root, _hf, ggufs = files
    assert client.get("/health").json()["status"] == "ok"
    for quant in ("Q8_0", "Q4_0"):
        assert f"OpenVINO reads {ggufs[quant]}" in worker.log()
        assert not list(ggufs[quant].parent.glob(f"tiny-{quant}.openvino-*"))
    # the one export is the lora entry's merge (below); the GGUF entries have none
    assert [path.parent.name for path in root.rglob("openvino_model.xml")] == ["lora.openvino-int8"]


def test_models_show_the_files_context_length_and_format(client):
    rows = {row["id"]: row for row in client.get("/v1/models").json()["data"]}
    assert {rows[name]["context_length"] for name in ("tiny-q8_0", "tiny-q4_0", "tiny-f32")} == {CONTEXT}
    assert rows["tiny-q8_0"]["weight_format"] == "gguf Q8_0" and rows["tiny-q4_0"]["weight_format"] == "gguf Q4_0"
    assert rows["tiny-f32"]["weight_format"] == "gguf F32 -> Q8_0"
    assert client.post("/tokenize", json={"model": "tiny-q8_0", "prompt": "hi"}).json()["max_model_len"] == CONTEXT


def test_chat_uses_the_files_template_and_answers_as_the_model(files, client):
    _root, hf, _ggufs = files
    body = chat(client, "tiny-q8_0")
    rendered = "<|im_start|>user\nHello! Who are you?<|im_end|>\n<|im_start|>assistant\n"
    count = client.post("/tokenize", json={"model": "tiny-q8_0", "prompt": rendered}).json()["count"]
    assert body["usage"] == {"prompt_tokens": count, "completion_tokens": 12, "total_tokens": count + 12}
    # int8 weights and bf16 activations: the first tokens are the model's own (a near-random model forks later)
    first = chat(client, "tiny-q8_0", max_tokens=SAME_TOKENS)["choices"][0]["message"]["content"]
    assert first == reference_reply(hf, MESSAGES, SAME_TOKENS)


def test_q4_0_answers(client):
    body = chat(client, "tiny-q4_0")
    assert body["usage"]["completion_tokens"] == 12 and body["choices"][0]["message"]["content"]


def test_logprobs_on_a_gguf_read_directly_are_refused_naming_the_engine(client):
    # the scoring pass compiles an export's IR; a .gguf read directly has none: a 400, never a 500 mid-generation
    for path, body in (
        ("/v1/completions", {"model": "tiny-q8_0", "prompt": "hi", "max_tokens": 1, "logprobs": 1}),
        ("/v1/completions", {"model": "tiny-q8_0", "prompt": "hi", "max_tokens": 0, "echo": True, "logprobs": 0}),
        ("/v1/chat/completions", {"model": "tiny-q8_0", "messages": MESSAGES, "max_tokens": 1, "logprobs": True}),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "logprobs_unsupported" and error["param"] == "logprobs"
        assert "openvino engine reads this .gguf file directly" in error["message"]
    assert chat(client, "tiny-q8_0")["usage"]["completion_tokens"] == 12  # the engine is unharmed


def test_a_prompt_beyond_the_files_context_is_refused(client):
    body = {"model": "tiny-q8_0", "prompt": "one two three " * 200, "max_tokens": 4}
    response = client.post("/v1/completions", json=body)
    assert response.status_code == 400 and f"is {CONTEXT} tokens" in response.json()["error"]["message"]


def test_unreadable_weights_are_converted_and_served(files, worker, client):
    _root, hf, ggufs = files
    converted = ggufs["F32"].parent / "tiny-F32.openvino-q8_0.gguf"
    assert converted.is_file()
    assert f"converting {ggufs['F32']}: OpenVINO GenAI cannot read llama/F32 weights directly" in worker.log()
    reply = chat(client, "tiny-f32", max_tokens=SAME_TOKENS)["choices"][0]["message"]["content"]
    assert reply == reference_reply(hf, MESSAGES, SAME_TOKENS)


def test_a_lora_on_a_gguf_base_is_merged_into_an_export(files, client):
    """The GGUF is written out as a bf16 HF folder tensor by tensor, the adapter merged in, then exported."""
    root, _hf, _ggufs = files
    stamp = (root / "lora.openvino-int8" / "llmchat_export.json").read_text()
    assert "tiny-Q8_0.gguf" in stamp
    body = {"model": "tiny-q8_0-lora", "prompt": "Hello there", "max_tokens": 8, "temperature": 0, "ignore_eos": True}
    merged = client.post("/v1/completions", json=body).json()["choices"][0]["text"]
    plain = client.post("/v1/completions", json={**body, "model": "tiny-q8_0"}).json()["choices"][0]["text"]
    assert merged and merged != plain  # the adapter changes the answer


def test_an_architecture_openvino_cannot_build_gets_a_clear_400(files, tmp_path):
    _root, hf, _ggufs = files
    made_up = write_llama_gguf(hf, tmp_path / "made-up.gguf", "Q8_0", architecture="madeupllm")
    entry = {"id": "made-up", "kind": "chat", "source": str(made_up), "prompt_style": "chat"}
    config = write_models_yaml(tmp_path / "models.yaml", [entry], worker={"engine": "openvino", "preload": False})
    with start_worker(config, models_dir=tmp_path / "models", timeout=120) as running:
        response = httpx.post(
            f"{running.url}/v1/chat/completions", json={"model": "made-up", "messages": MESSAGES}, timeout=120
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["param"], error["code"]) == ("model", "model_not_servable")
        assert "neither OpenVINO GenAI nor transformers read a GGUF of architecture madeupllm" in error["message"]
        assert str(made_up) not in error["message"]  # paths stay in the log
        assert f"converting {made_up}: OpenVINO GenAI cannot read architecture madeupllm directly" in running.log()
