"""`llmchat serve` itself: gunicorn with gthread workers, migrations at start-up, a streamed chat."""

from __future__ import annotations

import httpx

from tests.api.conftest import read_sse
from tests.support.api_server import start_serve_process


def test_llmchat_serve_runs_the_app_under_gunicorn(worker, tmp_path):
    config = {
        "database_url": f"sqlite:///{tmp_path / 'serve.db'}",
        "worker_urls": [worker.url],
        "frontend_dist": str(tmp_path / "no-dist"),
    }
    with start_serve_process(config) as api, httpx.Client(base_url=api.url, timeout=60) as client:
        assert client.get("/api/health").json()["database"] == "ok"
        payload = {"message": "hi", "model": "tiny-fewshot", "stream": True}
        with client.stream("POST", "/api/chat", json=payload) as response:
            events = read_sse(response)
        names = [name for name, _ in events]
        assert names[0] == "start" and "done" in names
        assert names[-1] == "done"  # the stream ends with the reply (a model title is never waited for)
        assert len(client.get("/api/conversations").json()["conversations"]) == 1
        log = api.log()
    assert "gthread" in log
    assert (tmp_path / "serve.db").exists()
