"""/metrics after real traffic, parsed with prometheus_client's own parser: the chat API under gunicorn with two
worker processes (multiprocess mode: one scrape adds up both), and the model worker (tiny random model)."""

from __future__ import annotations

import threading

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api_server import from_address, start_serve_process
from tests.support.slow_upstream import start_slow_upstream
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)


def scrape(http: httpx.Client) -> dict[str, list]:
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def total(samples: list, name: str, **labels: str) -> float:
    return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def test_api_metrics_add_up_every_gunicorn_process(tmp_path):
    with start_slow_upstream(delay=0.05) as upstream:
        data = {
            "database_url": f"sqlite:///{tmp_path / 'metrics.db'}",
            "worker_urls": [upstream],
            "limits": {"rate_limit_requests": 0},
        }
        with (
            start_serve_process(data, threads=4, workers=2) as api,
            from_address(api.url, "127.0.0.1") as local,
            from_address(api.url, "127.0.0.41") as outsider,
        ):
            chats = 6
            for n in range(chats):
                body = {"message": f"hello {n}", "model": "slow", "params": {"max_tokens": 2}}
                assert local.post("/api/chat", json=body).status_code == 200
            assert local.post("/api/chat", content="{}", headers={"Content-Type": "text/plain"}).status_code == 415
            evil = {"Origin": "http://evil.example"}
            assert local.post("/api/chat", json={"message": "x", "model": "slow"}, headers=evil).status_code == 403
            assert outsider.get("/metrics").status_code == 403  # not in metrics_networks

            # a stream held open: the live gauge counts it, whichever process serves it or the scrape
            long_body = {"message": "long", "model": "slow", "params": {"max_tokens": 400}, "stream": True}
            opened = threading.Event()

            def stream() -> None:
                with httpx.Client(base_url=api.url, timeout=60) as streamer:
                    with streamer.stream("POST", "/api/chat", json=long_body) as response:
                        for _ in response.iter_lines():
                            opened.set()

            reader = threading.Thread(target=stream, daemon=True)
            reader.start()
            assert opened.wait(30)
            families = wait_for(
                lambda: (f := scrape(local)) and total(f["llmchat:api_streams_live"], "llmchat:api_streams_live") and f,
                what="a live stream counted",
            )
            assert total(families["llmchat:api_streams_live"], "llmchat:api_streams_live") == 1
            requests = families["llmchat:api_requests"]
            assert (
                total(requests, "llmchat:api_requests_total", route="/api/chat", status="200") == chats + 1
            )  # + the stream
            assert total(requests, "llmchat:api_requests_total", route="/api/chat", status="415") == 1
            refusals = families["llmchat:api_refusals"]
            assert total(refusals, "llmchat:api_refusals_total", reason="unsupported_media_type") == 1
            assert total(refusals, "llmchat:api_refusals_total", reason="cross_origin") == 1
            assert total(refusals, "llmchat:api_refusals_total", reason="metrics_not_allowed") == 1
            latency = families["llmchat:api_request_duration_seconds"]
            assert total(latency, "llmchat:api_request_duration_seconds_count", route="/api/chat") >= chats + 2
            log = api.log()
            api.process.terminate()  # ends the held stream too
    pids = {line.split("pid: ")[1].split(")")[0] for line in log.splitlines() if "Booting worker with pid" in line}
    assert len(pids) == 2, log[-2000:]


def test_worker_metrics_are_named_like_vllm(worker, tmp_path):
    with httpx.Client(base_url=worker.url, timeout=60) as http:
        body = {"model": "tiny-chat", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6}
        assert http.post("/v1/chat/completions", json=body).status_code == 200
        with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
            assert [line for line in response.iter_lines() if line]
        families = scrape(http)
    model = {"model_name": "tiny-chat"}
    assert (
        total(families["llmchat:time_to_first_token_seconds"], "llmchat:time_to_first_token_seconds_count", **model)
        >= 2
    )
    assert (
        total(families["llmchat:e2e_request_latency_seconds"], "llmchat:e2e_request_latency_seconds_count", **model)
        >= 2
    )
    assert "llmchat:time_per_output_token_seconds" in families
    generated = total(families["llmchat:generation_tokens"], "llmchat:generation_tokens_total", **model)
    assert generated >= 2 and total(families["llmchat:prompt_tokens"], "llmchat:prompt_tokens_total", **model) >= 2
    assert total(families["llmchat:request_success"], "llmchat:request_success_total", **model) >= 2
    running = families["llmchat:num_requests_running"]
    assert running and all(sample.value == 0 for sample in running)  # nothing is generating now
    assert "llmchat:num_requests_waiting" in families


def test_worker_queue_time_counts_the_wait_for_a_batch_slot(worker):
    """Eight long requests at once on a worker that batches four: the last ones wait in the engine's queue until a
    slot frees, which takes at least a whole reply of the first ones (48 decode steps), so some queue times are far
    above a millisecond; every request that reached its engine is counted once."""
    model = {"model_name": "tiny-chat"}
    body = {
        "model": "tiny-chat",
        "messages": [{"role": "user", "content": "Count"}],
        "max_tokens": 48,
        "ignore_eos": True,
        "temperature": 0.0,
    }

    def queue_samples(http: httpx.Client) -> list:
        return scrape(http)["llmchat:request_queue_time_seconds"]

    with httpx.Client(base_url=worker.url, timeout=120) as http:
        before = queue_samples(http)
        count_before = total(before, "llmchat:request_queue_time_seconds_count", **model)
        quick_before = total(before, "llmchat:request_queue_time_seconds_bucket", le="0.01", **model)
        answers: list[int] = []

        def ask() -> None:
            with httpx.Client(base_url=worker.url, timeout=120) as own:
                answers.append(own.post("/v1/chat/completions", json=body).status_code)

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert answers == [200] * 8
        after = queue_samples(http)
    assert total(after, "llmchat:request_queue_time_seconds_count", **model) == count_before + 8
    quick = total(after, "llmchat:request_queue_time_seconds_bucket", le="0.01", **model) - quick_before
    assert quick <= 4, f"{quick} of 8 requests took a slot within 10 ms, though only 4 fit in a batch"
    waited = total(after, "llmchat:request_queue_time_seconds_sum", **model) - total(
        before, "llmchat:request_queue_time_seconds_sum", **model
    )
    assert waited > 0
