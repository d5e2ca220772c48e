"""Loading on demand and unloading, on real worker subprocesses with three tiny models (different seeds), on both
engines: at most `max_loaded_models` loaded, a busy engine never unloaded, `pin`, the idle timeout, one load for
many waiters, the load/unload routes, a failed load, and a load slower than `load_timeout_s`."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

TIMEOUT = 60
IDS = ("tiny-a", "tiny-b", "tiny-c")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, object]:
    """Three different tiny models; tiny-a has a long context so it can stream for a while."""
    root = tmp_path_factory.mktemp("residency")
    return {
        "tiny-a": make_tiny_model(root / "a", seed=11, max_position_embeddings=8192),
        "tiny-b": make_tiny_model(root / "b", seed=12),
        "tiny-c": make_tiny_model(root / "c", seed=13),
    }


def entries(sources, pinned: tuple[str, ...] = ()) -> list[dict]:
    return [
        {"id": model_id, "kind": "base", "source": str(source), "prompt_style": "fewshot"}
        | ({"pin": True} if model_id in pinned else {})
        for model_id, source in sources.items()
    ]


def run_worker(tmp_path_factory, engine: str, models: list[dict], **worker):
    config = write_models_yaml(
        tmp_path_factory.mktemp("config") / "models.yaml",
        models,
        worker={"engine": engine, "max_batch_size": 4, "max_queue": 16, **worker},
    )
    return start_worker(config, timeout=180)


def complete(client: httpx.Client, model: str, max_tokens: int = 8) -> httpx.Response:
    body = {"model": model, "prompt": "Hello there", "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True}
    return client.post("/v1/completions", json=body)


def loaded(client: httpx.Client) -> set[str]:
    return {row["id"] for row in client.get("/v1/models").json()["data"] if row["loaded"]}


def residency(client: httpx.Client) -> dict:
    return client.get("/health").json()["residency"]


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory, sources, engine):
    """max_loaded_models: 1, nothing preloaded."""
    with run_worker(tmp_path_factory, engine, entries(sources), max_loaded_models=1, preload=False) as worker:
        with httpx.Client(base_url=worker.url, timeout=TIMEOUT) as client:
            yield worker, client


def test_nothing_loaded_before_the_first_request(one_at_a_time):
    _, client = one_at_a_time
    rows = client.get("/v1/models").json()["data"]
    assert all(row["loaded"] is False and row["loading"] is False for row in rows)
    assert client.get("/health").json()["models"] == []


def test_each_model_in_turn_leaves_exactly_one_loaded(one_at_a_time):
    _, client = one_at_a_time
    for model_id in IDS:
        response = complete(client, model_id)
        assert response.status_code == 200, response.text
        assert response.json()["usage"]["completion_tokens"] == 8
        # the one before is unloaded once its request is done (by the next load, or the housekeeper)
        assert wait_for(lambda wanted={model_id}: loaded(client) == wanted, 10, f"only {model_id} loaded")
    assert residency(client)["unloads"] >= 2


def test_a_busy_model_is_not_unloaded_and_its_stream_completes(one_at_a_time):
    worker, client = one_at_a_time
    body = {"model": "tiny-a", "prompt": "Hello", "max_tokens": 4000, "temperature": 0, "ignore_eos": True}
    with client.stream("POST", "/v1/completions", json={**body, "stream": True}) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert "text_completion" in first
        # tiny-a is mid-stream: tiny-b loads beside it, over the limit (the log says so), instead of unloading it
        other = complete(client, "tiny-b")
        assert other.status_code == 200, other.text
        payloads = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert not any("error" in chunk for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 4000
    assert "over the limits" in worker.log()
    # both idle now: back to one loaded
    assert wait_for(lambda: len(loaded(client)) == 1, 10, "back under the limit")


def test_concurrent_requests_for_an_unloaded_model_share_one_load(one_at_a_time):
    _, client = one_at_a_time
    target = next(model_id for model_id in IDS if model_id not in loaded(client))
    before = residency(client)["loads"]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: complete(client, target), range(6)))
    assert [response.status_code for response in responses] == [200] * 6
    assert residency(client)["loads"] == before + 1


def test_load_and_unload_routes(one_at_a_time):
    _, client = one_at_a_time
    response = client.post("/v1/models/tiny-c/load", json={})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": "tiny-c", "loaded": True, "models": ["tiny-c"]}
    assert loaded(client) == {"tiny-c"}
    response = client.post("/v1/models/tiny-c/unload", json={})
    assert response.json() == {"id": "tiny-c", "loaded": False, "unloaded": ["tiny-c"]}
    assert loaded(client) == set()
    assert client.post("/v1/models/tiny-c/unload", json={}).json()["unloaded"] == []  # not loaded: nothing to do
    for route in ("load", "unload"):
        missing = client.post(f"/v1/models/nope/{route}", json={})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_unloading_a_busy_model_is_refused(one_at_a_time):
    _, client = one_at_a_time
    body = {"model": "tiny-a", "prompt": "Hello", "max_tokens": 4000, "temperature": 0, "ignore_eos": True}
    with client.stream("POST", "/v1/completions", json={**body, "stream": True}) as stream:
        lines = stream.iter_lines()
        next(line for line in lines if line.startswith("data: "))
        refused = client.post("/v1/models/tiny-a/unload", json={})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "model_busy"
        assert [line for line in lines if line.startswith("data: ")][-1] == "data: [DONE]"
    assert wait_for(
        lambda: client.post("/v1/models/tiny-a/unload", json={}).status_code == 200, 10, "unloaded once idle"
    )
    assert "tiny-a" not in loaded(client)


def test_pinned_model_stays_and_idle_ones_are_unloaded(tmp_path_factory, sources, engine):
    models = entries(sources, pinned=("tiny-c",))
    with run_worker(tmp_path_factory, engine, models, max_loaded_models=2, idle_unload_s=1.5) as worker:
        with httpx.Client(base_url=worker.url, timeout=TIMEOUT) as client:
            assert loaded(client) == {"tiny-c", "tiny-a"}  # preloaded: the pinned one first, then up to the limit
            assert complete(client, "tiny-b").status_code == 200
            # the limit is two: tiny-b's load unloads the least recently used unpinned one (tiny-a), never tiny-c
            assert loaded(client) == {"tiny-c", "tiny-b"}
            # idle for 1.5 s: tiny-b goes too; the pinned tiny-c stays however long it idles
            assert wait_for(lambda: loaded(client) == {"tiny-c"}, 15, "tiny-b unloaded when idle")
            assert loaded(client) == {"tiny-c"}
            assert residency(client)["loads"] == 3


def test_a_failed_load_tells_every_waiter_and_the_next_request_tries_again(tmp_path_factory, sources, engine):
    broken = tmp_path_factory.mktemp("broken") / "model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    models = [{"id": "tiny-broken", "kind": "base", "source": str(broken), "prompt_style": "fewshot"}]
    with run_worker(tmp_path_factory, engine, models, preload=False) as worker:
        with httpx.Client(base_url=worker.url, timeout=TIMEOUT) as client:
            with ThreadPoolExecutor(4) as pool:
                responses = list(pool.map(lambda _: complete(client, "tiny-broken"), range(4)))
            for response in responses:
                assert response.status_code == 500
                error = response.json()["error"]
                assert error["code"] == "model_load_failed" and "'tiny-broken' could not be loaded" in error["message"]
            assert 1 <= residency(client)["load_failures"] <= 4
            assert "loading tiny-broken failed" in worker.log()
            shutil.rmtree(broken)
            shutil.copytree(sources["tiny-b"], broken)  # mended: the next request loads it
            assert complete(client, "tiny-broken").status_code == 200
            assert loaded(client) == {"tiny-broken"}


def test_a_load_slower_than_the_timeout_is_a_503_and_goes_on(tmp_path_factory, sources, engine):
    models = entries({"tiny-b": sources["tiny-b"]})
    with run_worker(tmp_path_factory, engine, models, preload=False, load_timeout_s=0.01) as worker:
        with httpx.Client(base_url=worker.url, timeout=TIMEOUT) as client:
            # the first load of a worker imports the engine's modelling code: far longer than 10 ms
            response = complete(client, "tiny-b")
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "model_loading" and response.headers["Retry-After"]
            assert wait_for(lambda: loaded(client) == {"tiny-b"}, 60, "the load went on")
            assert complete(client, "tiny-b").status_code == 200
            assert residency(client)["loads"] == 1
