"""Retake docs/screenshots/ from the real app: SmolLM2 worker (configs/models.yaml, plus any finished run or adapter
in models/), the chat API on a throw-away database serving a fresh frontend build, then frontend/e2e/screenshots.mjs
(with the feedback screens: votes, leaderboard, model cards — a run's card shows its last `llmchat evaluate`).

    .venv/bin/llmchat models prepare          # once: converts the packaged SmolLM2 GGUF
    .venv/bin/python -m tests.e2e.screenshots [--out docs/screenshots] [--model-b smollm2-lora]
    .venv/bin/python -m tests.e2e.screenshots --jobs   # only: a reply outliving the page (frontend/e2e/jobs.mjs)

Not a test (pytest does not collect it): it needs the real model and a couple of minutes of CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from llmchat.api.config import TitleSettings
from tests.support.api_server import api_config, start_api
from tests.support.servers import PROJECT_ROOT, start_worker

FRONTEND = PROJECT_ROOT / "frontend"


def build(out: Path) -> None:
    subprocess.run(
        ["npm", "run", "build", "--", "--outDir", str(out), "--emptyOutDir"],
        cwd=FRONTEND,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )


def warm_up(worker_url: str) -> None:
    """One token from every model first: a LoRA is loaded on its first request, which can take longer than the API
    waits for the model server; the shots should show replies, not that wait."""
    import httpx

    models = httpx.get(f"{worker_url}/v1/models", timeout=30).json()["data"]
    for model in models:
        body = {"model": model["id"], "prompt": "Hello", "max_tokens": 1, "temperature": 0.0}
        httpx.post(f"{worker_url}/v1/completions", json=body, timeout=600).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "screenshots"))
    parser.add_argument("--config", default=str(PROJECT_ROOT / "configs" / "models.yaml"))
    parser.add_argument("--model", default="smollm2-chat", help="the model of the chat screenshots")
    parser.add_argument("--model-b", default="", help="the second model of the compare view (default: a LoRA if any)")
    parser.add_argument("--threads", default="2", help="torch threads of the worker")
    parser.add_argument(
        "--jobs",
        action="store_true",
        help="only the shots of a reply that outlives the page (frontend/e2e/jobs.mjs: answering-sidebar.png, "
        "reattached-reply.png)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="llmchat-shots-") as tmp:
        dist = Path(tmp) / "dist"
        build(dist)
        env = {"LLMCHAT_WORKER_THREADS": args.threads}
        with start_worker(Path(args.config), env=env, timeout=300) as worker:
            warm_up(worker.url)
            config = api_config(
                f"sqlite:///{Path(tmp) / 'shots.db'}",
                [worker.url],
                frontend_dist=str(dist),
                titles=TitleSettings(),
            )  # first-line titles: the default for SmolLM2 (too small to title well)
            with start_api(config) as api:
                node_env = {**os.environ, "SHOT_MODEL": args.model, "SHOT_MODEL_B": args.model_b}
                if args.jobs:
                    node_env["LLMCHAT_E2E_SHOTS"] = str(Path(args.out).resolve())
                command = (
                    ["node", "e2e/jobs.mjs", api.url]
                    if args.jobs
                    else ["node", "e2e/screenshots.mjs", api.url, args.out]
                )
                result = subprocess.run(command, cwd=FRONTEND, env=node_env, timeout=1200)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
