"""The fake model client stays a faithful stand-in: ModelClient's public methods, with the same signatures, and
stream objects with WorkerStream's. A method added to the real client fails here until the fake has it too."""

from __future__ import annotations

import inspect

import pytest

from llmchat.modelclient import Endpoint, ModelClient, WorkerStream, WorkerUnavailable
from tests.support.fake_model import FAKE_URL, FakeModelClient, FakeStream


def public_methods(cls) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize(("real", "fake"), [(ModelClient, FakeModelClient), (WorkerStream, FakeStream)])
def test_the_fake_has_the_real_interface(real, fake):
    real_methods, fake_methods = public_methods(real), public_methods(fake)
    assert set(real_methods) <= set(fake_methods), f"{fake.__name__} lacks {set(real_methods) - set(fake_methods)}"
    for name, signature in real_methods.items():
        assert list(signature.parameters) == list(fake_methods[name].parameters), name


def test_a_scripted_stream_then_the_default_reply():
    fake = FakeModelClient()
    endpoint = Endpoint.of(FAKE_URL)
    fake.reply("one", " two", finish_reason="length")
    first = fake.open_stream(endpoint, "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]})
    assert list(first.pieces()) == ["one", " two"]
    assert first.state.finish_reason == "length" and first.state.completion_tokens == 2
    second = fake.open_stream(endpoint, "/v1/chat/completions", {"prompt": "hi"})
    assert "".join(second.pieces()) == "Hello from the fake model." and second.state.finish_reason == "stop"
    assert [r.payload.get("prompt") for r in fake.generations()] == [None, "hi"]


def test_a_server_that_is_down_refuses_everything():
    fake = FakeModelClient()
    fake.down.add(FAKE_URL)
    endpoint = Endpoint.of(FAKE_URL)
    for call in (
        lambda: fake.health(endpoint),
        lambda: fake.models(endpoint),
        lambda: fake.open_stream(endpoint, "/v1/completions", {"prompt": "x"}),
    ):
        with pytest.raises(WorkerUnavailable):
            call()
    assert fake.requests == []


def test_an_aborted_held_stream_ends_with_worker_unavailable():
    fake = FakeModelClient()
    fake.reply("a", "b", hold_after=1)
    stream = fake.open_stream(Endpoint.of(FAKE_URL), "/v1/completions", {"prompt": "x"})
    pieces = stream.pieces()
    assert next(pieces) == "a"
    stream.abort()
    with pytest.raises(WorkerUnavailable):
        next(pieces)
