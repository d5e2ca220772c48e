"""The OpenAI-compatible HTTP client for model servers, shared by the chat API and the evaluation."""

from llmchat.modelclient.client import (
    Completion,
    Endpoint,
    ModelClient,
    StreamState,
    WorkerRejected,
    WorkerStream,
    WorkerUnavailable,
)

__all__ = [
    "Completion",
    "Endpoint",
    "ModelClient",
    "StreamState",
    "WorkerRejected",
    "WorkerStream",
    "WorkerUnavailable",
]
