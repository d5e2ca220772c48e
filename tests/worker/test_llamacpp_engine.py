"""A real worker serving tiny GGUFs on `engine: llama.cpp`: one llama-server child per model, answers that are the
model's own (the F32 file's greedy reply is HF generate's), usage counts, limits, stop strings, concurrent streams,
cancellation that frees llama-server's slot, and the child's memory in /health."""

from __future__ import annotations

import json
import threading

import httpx
import psutil
import pytest

from llmchat.models.gguf_writer import write_llama_gguf
from tests.support.api_server import api_config, start_api
from tests.support.llama_server import llama_server_binary, llama_server_children
from tests.support.servers import start_worker
from tests.support.sse import iter_sse
from tests.support.tiny_model import make_tiny_model, write_models_yaml
from tests.support.waiting import wait_for
from tests.worker.helpers import reference_reply

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

GGUF_CONTEXT = 320  # from the file's metadata
LONG_CONTEXT = 16384  # the entry's own context_length: room for a reply long enough to cancel mid-way
SLOTS = 4
SAME_TOKENS = 6
MESSAGES = [{"role": "user", "content": "Hello! Who are you?"}]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    llama_server_binary()  # skip (or, in CI, fail) before building anything
    root = tmp_path_factory.mktemp("llamacpp-worker")
    hf = make_tiny_model(root / "hf", seed=5, max_position_embeddings=GGUF_CONTEXT)
    ggufs = {quant: write_llama_gguf(hf, root / f"tiny-{quant}.gguf", quant) for quant in ("Q8_0", "F32")}
    return root, hf, ggufs


@pytest.fixture(scope="module")
def worker(files):
    root, _hf, ggufs = files
    entries = [
        {"id": "tiny-lc", "kind": "chat", "source": str(ggufs["Q8_0"]), "engine": "llama.cpp"},
        {"id": "tiny-lc-f32", "kind": "chat", "source": str(ggufs["F32"]), "engine": "llama.cpp"},
        {
            "id": "tiny-lc-long",
            "kind": "chat",
            "source": str(ggufs["Q8_0"]),
            "engine": "llama.cpp",
            "context_length": LONG_CONTEXT,
        },
    ]
    config = write_models_yaml(root / "models.yaml", entries, worker={"max_batch_size": SLOTS, "max_queue": 16})
    with start_worker(config, models_dir=root / "models", timeout=240) as running:
        yield running


def chat(client, model: str = "tiny-lc", **fields) -> dict:
    body = {"model": model, "messages": MESSAGES, "temperature": 0, **fields}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def prompt_count(client, model: str = "tiny-lc") -> int:
    response = client.post("/tokenize", json={"model": model, "messages": MESSAGES, "add_generation_prompt": True})
    return response.json()["count"]


def engine_row(client, model: str) -> dict:
    return next(row for row in client.get("/health").json()["engines"] if model in row["models"])


def stream_events(response) -> list[dict]:
    return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]


def test_each_model_runs_in_its_own_llama_server_child(worker, client):
    rows = client.get("/v1/models").json()["data"]
    by_id = {row["id"]: row for row in rows}
    assert by_id["tiny-lc"]["engine"] == "llama.cpp" and by_id["tiny-lc"]["weight_format"] == "gguf Q8_0"
    assert by_id["tiny-lc"]["context_length"] == GGUF_CONTEXT
    assert by_id["tiny-lc-long"]["context_length"] == LONG_CONTEXT
    # tiny-lc-long is the Q8_0 file again with slots of another size: a child of its own
    children = llama_server_children(worker.process.pid)
    assert len(children) == len(client.get("/health").json()["engines"]) == 3
    assert {row["llama_server"]["pid"] for row in client.get("/health").json()["engines"]} == {
        child.pid for child in children
    }


def test_the_reply_is_the_models_own_with_usage(files, client):
    _root, hf, _ggufs = files
    body = chat(client, "tiny-lc-f32", max_tokens=SAME_TOKENS, ignore_eos=True)
    count = prompt_count(client, "tiny-lc-f32")
    assert body["usage"] == {"prompt_tokens": count, "completion_tokens": SAME_TOKENS, "total_tokens": count + 6}
    assert body["choices"][0]["finish_reason"] == "length"
    # F32 weights: llama.cpp's greedy reply to the worker's token ids is HF generate's on the same prompt
    assert body["choices"][0]["message"]["content"] == reference_reply(hf, MESSAGES, SAME_TOKENS)


def test_a_streamed_reply_matches_the_whole_one_and_carries_usage(client):
    whole = chat(client, max_tokens=10, ignore_eos=True)
    body = {
        "model": "tiny-lc",
        "messages": MESSAGES,
        "temperature": 0,
        "max_tokens": 10,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        events = stream_events(response)
    text = "".join(choice["delta"].get("content", "") for event in events for choice in event["choices"])
    assert text == whole["choices"][0]["message"]["content"]
    assert [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]] == ["length"]
    assert events[-1]["usage"] == whole["usage"]


def test_a_stop_string_ends_the_text_before_it(client):
    full = chat(client, max_tokens=16, ignore_eos=True)["choices"][0]["message"]["content"]
    start = next(i for i in range(2, len(full) - 2) if "\ufffd" not in full[i : i + 2] and full[i : i + 2].strip())
    stop = full[start : start + 2]
    body = chat(client, max_tokens=16, ignore_eos=True, stop=[stop])
    assert body["choices"][0]["message"]["content"] == full[: full.index(stop)]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] < 16


def test_four_concurrent_streams_all_complete(client):
    results: list[tuple[str, dict]] = []

    def one(seed: int) -> None:
        body = {
            "model": "tiny-lc",
            "messages": MESSAGES,
            "max_tokens": 24,
            "ignore_eos": True,
            "seed": seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        with httpx.Client(base_url=str(client.base_url), timeout=120) as own:
            with own.stream("POST", "/v1/chat/completions", json=body) as response:
                events = stream_events(response)
        reasons = [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]
        results.append((reasons[0] if reasons else "", events[-1].get("usage") or {}))

    threads = [threading.Thread(target=one, args=(seed,)) for seed in range(SLOTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == SLOTS
    assert all(reason == "length" and usage["completion_tokens"] == 24 for reason, usage in results)
    assert engine_row(client, "tiny-lc")["stats"]["max_batch_seen"] >= 2


def test_cancelling_a_stream_frees_its_slot_in_llama_server(client):
    child = engine_row(client, "tiny-lc-long")["llama_server"]["url"]
    before = predicted_total(child)
    limit = LONG_CONTEXT - 64
    body = {"model": "tiny-lc-long", "messages": MESSAGES, "max_tokens": limit, "ignore_eos": True, "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                break  # one piece of text, then the client goes away

    def slots_idle() -> bool:
        return not any(slot["is_processing"] for slot in httpx.get(child + "/slots", timeout=5).json())

    wait_for(slots_idle, timeout=30, what="llama-server's slots to be free")
    assert 0 < predicted_total(child) - before < limit  # it stopped when the stream closed, not at the limit
    wait_for(lambda: engine_row(client, "tiny-lc-long")["active"] == 0, timeout=30, what="the request to leave")
    assert engine_row(client, "tiny-lc-long")["stats"]["cancelled"] >= 1
    assert chat(client, "tiny-lc-long", max_tokens=4, ignore_eos=True)["usage"]["completion_tokens"] == 4


def predicted_total(child_url: str) -> int:
    """llama-server's own count of the tokens it generated (its /metrics)."""
    for line in httpx.get(child_url + "/metrics", timeout=5).text.splitlines():
        if line.startswith("llamacpp:tokens_predicted_total "):
            return int(float(line.split()[1]))
    raise AssertionError("llama-server's /metrics has no tokens_predicted_total")


def test_health_counts_the_childrens_memory(worker, client):
    health = client.get("/health").json()
    children = [row["llama_server"] for row in health["engines"]]
    own = psutil.Process(worker.process.pid).memory_info().rss
    assert all(child["rss_bytes"] > 0 for child in children)
    # the two measurements are a moment apart: a 5 % margin for what moved in between
    assert health["residency"]["rss_bytes"] >= 0.95 * (own + sum(child["rss_bytes"] for child in children))
    metrics = client.get("/metrics").text
    assert "llmchat:worker_resident_memory_bytes" in metrics


def test_logprobs_are_refused_naming_the_engine(client):
    body = {"model": "tiny-lc", "messages": MESSAGES, "max_tokens": 2, "logprobs": True}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "logprobs"
    assert "llama.cpp" in response.json()["error"]["message"]


def test_a_chat_through_the_chat_api(worker, tmp_path, fresh_sqlite):
    with start_api(api_config(fresh_sqlite(tmp_path / "api.db"), [worker.url])) as api:
        with httpx.Client(base_url=api.url, timeout=120) as http:
            response = http.post("/api/chat", json={"message": "Hello there!", "model": "tiny-lc"})
            assert response.status_code == 200, response.text
            reply = response.json()["message"]
            assert (reply["status"], reply["model"]) == ("complete", "tiny-lc") and reply["content"]
            assert reply["usage"]["prompt_tokens"] > 0 and reply["usage"]["completion_tokens"] > 0
            payload = {"message": "Stream please", "model": "tiny-lc", "stream": True, "params": {"max_tokens": 12}}
            with http.stream("POST", "/api/chat", json=payload) as streamed:
                events = list(iter_sse(streamed.iter_lines()))
            assert events[0][0] == "start" and events[-1][0] == "done"
            sent = "".join(data["content"] for name, data in events if name == "delta")
            stored = http.get(f"/api/conversations/{events[0][1]['conversation_id']}").json()["messages"][-1]
            assert stored["content"] == sent and stored["status"] == "complete"


def test_past_max_queue_a_request_is_refused_with_queue_full(files):
    """One slot busy with a long reply, one request waiting for it: a third is refused, as on the other engines."""
    from llmchat.models.loading import load_tokenizer
    from llmchat.worker.engines.base import Finished, GenerationHandle, GenerationRequest, QueueFull, SamplingParams
    from llmchat.worker.engines.llamacpp import LlamaCppEngine
    from llmchat.worker.engines.llamacpp_process import LlamaServer

    _root, _hf, ggufs = files
    server = LlamaServer(llama_server_binary(), ggufs["Q8_0"], parallel=1, context_length=LONG_CONTEXT, threads=1)
    engine = LlamaCppEngine("tiny", server, load_tokenizer(ggufs["Q8_0"]), LONG_CONTEXT, max_batch_size=1, max_queue=1)
    events: list = []
    try:
        long = GenerationRequest([1, 2, 3], LONG_CONTEXT - 8, SamplingParams(temperature=0), ignore_eos=True)
        first = engine.submit(long, events.append)
        wait_for(lambda: engine.active_count == 1, timeout=30, what="the first request to run")
        second = engine.submit(long, events.append)
        assert engine.queue_depth == 1
        with pytest.raises(QueueFull):
            engine.submit(long, events.append, GenerationHandle())
        first.cancel()
        second.cancel()
        wait_for(lambda: sum(isinstance(e, Finished) for e in events) == 2, timeout=30, what="both to end")
        assert [e.reason for e in events if isinstance(e, Finished)] == ["cancelled", "cancelled"]
    finally:
        engine.close()
    assert not server.alive()
