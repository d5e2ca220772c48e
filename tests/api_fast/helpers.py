"""Reading the API's answers in the fast tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.sse import iter_sse


def events(response: TestResponse) -> list[tuple[str, dict]]:
    """(event, data) pairs of an SSE answer, read to its end."""
    assert response.mimetype == "text/event-stream", response.get_data(as_text=True)
    return list(iter_sse(response.get_data(as_text=True).splitlines()))


def error_of(response: TestResponse) -> dict:
    """The one error shape: `{"error": {"message", "code", "field"?}}`, as JSON."""
    assert response.is_json, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["code"], str) and error["code"]
    return error


def chat(client: FlaskClient, message: str = "Hello", **body: Any) -> dict:
    """A non-streamed chat turn that must succeed; its JSON answer."""
    response = client.post("/api/chat", json={"message": message, "model": "tiny-chat", **body})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()
