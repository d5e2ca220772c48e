"""The evaluator's view of the model worker: greedy answers over the project's one OpenAI HTTP client.

Each model is prompted in its own style, as the worker reports it in /v1/models: `alpaca` and `fewshot` go to
/v1/completions with the rendered prompt and the style's stop strings, `chat` to /v1/chat/completions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmchat.modelclient import Endpoint, ModelClient, WorkerRejected, WorkerUnavailable
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
    context_length: int | None = None  # llmchat's context_length, vLLM's max_model_len


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
        self.endpoint = Endpoint.of(base_url)
        self.client = ModelClient(timeout_s)
        self.alpaca = load_alpaca_template()

    def close(self) -> None:
        self.client.close()

    def _complete(self, route: str, body: dict[str, Any]) -> str:
        try:
            return self.client.complete(self.endpoint, route, body).text
        except WorkerUnavailable as exc:
            raise WorkerError(f"worker at {self.base_url} unreachable ({exc})") from exc
        except WorkerRejected as exc:
            raise WorkerError(f"{route} for model {body.get('model')!r}: HTTP {exc.status}: {exc.message}") from exc

    def models(self) -> dict[str, ModelInfo]:
        try:
            rows = self.client.models(self.endpoint)
        except (WorkerUnavailable, WorkerRejected, ValueError) as exc:
            raise WorkerError(f"cannot list models at {self.base_url}/v1/models: {exc}") from exc
        # a third-party OpenAI server has no prompt_style: treat its models as chat models
        return {
            row["id"]: ModelInfo(
                row["id"],
                row.get("prompt_style") or "chat",
                row.get("kind"),
                row.get("base_model"),
                row.get("context_length") or row.get("max_model_len"),
            )
            for row in rows
        }

    def answer(self, model: ModelInfo, record: dict, max_tokens: int) -> str:
        """The model's greedy answer to one record, in the model's own prompt style."""
        common = {"model": model.id, "max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0, "seed": 0}
        if model.prompt_style == "chat":
            body = {**common, "messages": [{"role": "user", "content": user_text(record)}]}
            return self._complete("/v1/chat/completions", body)
        if model.prompt_style == "alpaca":
            prompt = self.alpaca.render(record["instruction"], record.get("input", ""))
            stop = list(self.alpaca.stop)
        elif model.prompt_style == "fewshot":
            prompt, stop = render_fewshot(record)
        else:
            raise WorkerError(f"model {model.id!r} has an unknown prompt_style {model.prompt_style!r}")
        return self._complete("/v1/completions", {**common, "prompt": prompt, "stop": stop})
