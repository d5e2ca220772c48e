"""Does unloading a model give its memory back? A worker's RSS (from /health) before the first request, with the model
loaded (after one reply), after `POST /v1/models/{id}/unload`, and once more after a second load and unload (a leak
would show as a rise), for the tiny test model and SmolLM2 on both engines.

    PYTHONPATH=backend .venv/bin/python bench/unload_memory.py      # needs `llmchat models prepare` for SmolLM2
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402

from tests.support.servers import start_worker  # noqa: E402
from tests.support.tiny_model import make_tiny_model, write_models_yaml  # noqa: E402

SMOLLM2 = PROJECT_ROOT / "models" / "smollm2-135m-instruct"
SETTLE_S = 1.0  # the unload has returned; give the allocator a moment before reading the RSS


def rss_mb(client: httpx.Client) -> float:
    return client.get("/health").json()["residency"]["rss_bytes"] / 2**20


def reply(client: httpx.Client, model: str) -> None:
    body = {"model": model, "prompt": "Hello there", "max_tokens": 16, "temperature": 0}
    response = client.post("/v1/completions", json=body)
    response.raise_for_status()


def unload(client: httpx.Client, model: str) -> None:
    client.post(f"/v1/models/{model}/unload", json={}).raise_for_status()
    time.sleep(SETTLE_S)


def measure(root: Path, engine: str, name: str, source: Path) -> str:
    entry = {"id": name, "kind": "base", "source": str(source), "prompt_style": "fewshot"}
    config = write_models_yaml(root / f"{engine}-{name}.yaml", [entry], worker={"engine": engine, "preload": False})
    with start_worker(config, timeout=300) as worker, httpx.Client(base_url=worker.url, timeout=300) as client:
        start = rss_mb(client)
        readings = []
        for _ in range(2):
            reply(client, name)
            loaded = rss_mb(client)
            unload(client, name)
            readings.append((loaded, rss_mb(client)))
    (loaded, unloaded), (reloaded, unloaded_again) = readings
    return (
        f"| {engine} | {name} | {start:.0f} | {loaded:.0f} | {unloaded:.0f} | {loaded - unloaded:.0f} "
        f"| {reloaded:.0f} | {unloaded_again:.0f} |"
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="unload-memory-") as tmp:
        root = Path(tmp)
        models = {"tiny": make_tiny_model(root / "tiny", seed=21)}
        if (SMOLLM2 / "config.json").is_file():
            models["smollm2"] = SMOLLM2
        else:
            print(f"{SMOLLM2} is missing (llmchat models prepare): measuring the tiny model only", file=sys.stderr)
        print("| engine | model | start MB | loaded | unloaded | freed | loaded again | unloaded again |")
        print("|---|---|---|---|---|---|---|---|")
        for engine in ("openvino", "transformers"):
            for name, source in models.items():
                print(measure(root, engine, name, source), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
