"""The evaluator's view of the model worker: OpenAI-format HTTP calls with httpx, greedy decoding.

Each model is prompted in its own style, as the worker reports it in /v1/models: `alpaca` and `fewshot` go to
/v1/completions with the rendered prompt and the style's stop strings, `chat` to /v1/chat/completions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from llmchat.prompts import load_alpaca_template
from llmchat.prompts.styles import Turn, load_fewshot_template


class WorkerError(ValueError):
    """The worker answered with an error or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class ModelInfo:
    id: str
    prompt_style: str
    kind: str | None = None
    base_model: str | None = None


def user_text(record: dict) -> str:
    """How an Alpaca record reads as one user message (chat and few-shot styles)."""
    return record["instruction"] + (f"\n\n{record['input']}" if record.get("input", "").strip() else "")


def render_fewshot(record: dict) -> tuple[str, list[str]]:
    """The few-shot prompt (configs/prompts/fewshot.yaml, rendered as the chat API renders it) and its stops."""
    prompt = load_fewshot_template().render("", [Turn("user", user_text(record))])
    return prompt.text or "", list(prompt.stop)


class WorkerClient:
    def __init__(self, base_url: str, timeout_s: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self.alpaca = load_alpaca_template()

    def close(self) -> None:
        self.http.close()

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.http.post(route, json=body)
        except httpx.HTTPError as exc:
            raise WorkerError(f"worker at {self.base_url} unreachable ({exc.__class__.__name__}: {exc})") from exc
        if response.status_code != 200:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:300]
            raise WorkerError(f"{route} for model {body.get('model')!r}: HTTP {response.status_code}: {message}")
        return response.json()

    def models(self) -> dict[str, ModelInfo]:
        try:
            rows = self.http.get("/v1/models").json()["data"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise WorkerError(f"cannot list models at {self.base_url}/v1/models: {exc}") from exc
        # a third-party OpenAI server has no prompt_style: treat its models as chat models
        return {row["id"]: ModelInfo(row["id"], row.get("prompt_style") or "chat", row.get("kind"),
                                     row.get("base_model")) for row in rows}

    def answer(self, model: ModelInfo, record: dict, max_tokens: int) -> str:
        """The model's greedy answer to one record, in the model's own prompt style."""
        common = {"model": model.id, "max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0, "seed": 0,
                  "stream": False}
        if model.prompt_style == "chat":
            body = {**common, "messages": [{"role": "user", "content": user_text(record)}]}
            return self._post("/v1/chat/completions", body)["choices"][0]["message"]["content"]
        if model.prompt_style == "alpaca":
            prompt = self.alpaca.render(record["instruction"], record.get("input", ""))
            stop = list(self.alpaca.stop)
        elif model.prompt_style == "fewshot":
            prompt, stop = render_fewshot(record)
        else:
            raise WorkerError(f"model {model.id!r} has an unknown prompt_style {model.prompt_style!r}")
        return self._post("/v1/completions", {**common, "prompt": prompt, "stop": stop})["choices"][0]["text"]
