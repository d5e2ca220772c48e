"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

A real `llmchat serve` (gunicorn) in front of a real worker with tiny models. Every operation of
/api/openapi.json gets a bounded number of generated requests, valid and invalid; every answer must be
no 5xx, a documented status and content type, and a body that matches the documented schema.

The generated values are steered a little towards real things (a served model id, an existing conversation
and its messages), so the successful paths are exercised too, not only the 4xx ones.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookDispatcher, HookScope
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from llmchat.api.openapi import openapi_document
from llmchat.api.schemas import request_schemas
from tests.support.api_server import start_serve_process

MAX_EXAMPLES = 60  # per operation and mode (valid, invalid): 120 requests per operation
# the operations, from the same generator the server uses (the live document is what the cases come from)
OPERATIONS = [
    (method.upper(), path)
    for path, item in openapi_document(request_schemas())["paths"].items()
    for method in item
    if method != "parameters"
]
MODELS = ["tiny-chat", "tiny-fewshot", "tiny-alpaca"]
MAX_URL_BYTES = 3000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def served_api(worker, tmp_path_factory):
    database = tmp_path_factory.mktemp("fuzz") / "api.db"
    config = {
        "database_url": f"sqlite:///{database}",
        "worker_urls": [worker.url],
        "frontend_dist": "/nonexistent",
        "log_level": "WARNING",
        "limits": {"rate_limit_requests": 0, "max_tokens": 64},
        "titles": {"source": "first_line"},
    }
    # the admin routes (the caller is 127.0.0.1, an admin) write uploads and exports: into a scratch data folder
    data = tmp_path_factory.mktemp("fuzz-data")
    with start_serve_process(config, env={"LLMCHAT_DATA_DIR": str(data)}) as api:
        yield api


@pytest.fixture
def known(served_api) -> dict:
    """A conversation with two exchanges and a version, for the generator to aim at."""
    with httpx.Client(base_url=served_api.url, timeout=60) as client:
        first = client.post("/api/chat", json={"message": "hello", "model": "tiny-chat"}).json()
        conversation_id = first["conversation_id"]
        second = client.post(
            "/api/chat", json={"message": "more", "model": "tiny-fewshot", "conversation_id": conversation_id}
        ).json()
        client.post(f"/api/conversations/{conversation_id}/regenerate", json={})
    ids = [first["user_message"]["id"], first["message"]["id"], second["user_message"]["id"], second["message"]["id"]]
    return {"conversation_id": conversation_id, "message_ids": ids}


@pytest.fixture(scope="module")
def api_schema(served_api):
    # invalid input is a 4xx; the API's own: 413 for a message over limits.max_message_chars
    rejected = ["400", "404", "405", "409", "413", "415", "422", "429"]
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": rejected}}})
    schema = schemathesis.openapi.from_url(f"{served_api.url}/api/openapi.json", config=config)

    # gunicorn refuses a request line over 4094 bytes itself (414, before the app): such URLs are not generated
    @schema.hook
    def filter_query(context, query):
        return len(urlencode(query or {}, doseq=True)) < MAX_URL_BYTES

    @schema.hook
    def filter_path_parameters(context, parameters):
        return len(urlencode(parameters or {})) < MAX_URL_BYTES

    return schema


@pytest.fixture
def steering(known) -> HookDispatcher:
    """For valid requests only: half of them aim at a served model and at the known conversation and messages."""
    hooks = HookDispatcher(scope=HookScope.TEST)

    def flatmap_body(context, body):
        if not isinstance(body, dict):
            return st.just(body)
        steered = dict(body)
        if "model" in steered:
            steered["model"] = MODELS[len(str(body.get("message", ""))) % len(MODELS)]
        if "column" in steered:
            steered["column"] = 0
        if isinstance(steered.get("message"), str):
            steered["message"] = steered["message"].replace("\x00", "") + " hello"
        if "conversation_id" in steered:
            steered["conversation_id"] = known["conversation_id"]
        for key in ("message_id", "parent_id"):
            if key in steered:
                steered[key] = known["message_ids"][-1]
        return st.sampled_from([body, steered])

    def flatmap_path_parameters(context, parameters):
        if not parameters:
            return st.just(parameters)
        steered = dict(parameters)
        if "conversation_id" in steered:
            steered["conversation_id"] = known["conversation_id"]
        if "message_id" in steered:
            steered["message_id"] = known["message_ids"][1]
        return st.sampled_from([parameters, steered])

    hooks.hook(flatmap_body)
    hooks.hook(flatmap_path_parameters)
    return hooks


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_matches_the_openapi_document(api_schema, steering, served_api, method, path):
    operation = api_schema[path][method]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        hooks = steering if mode is GenerationMode.POSITIVE else None

        @given(case=operation.as_strategy(generation_mode=mode, hooks=hooks))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(base_url=served_api.url, checks=CHECKS, timeout=60)

        try:
            check()
        except Unsatisfiable:
            # no input of this operation breaks its schema (no parameters, or any string is a valid id)
            assert mode is GenerationMode.NEGATIVE, "valid requests could not be generated"


def test_the_fuzzing_reached_the_successful_paths(served_api):
    """Runs after the operations above (same module): the steering made real replies, versions and continues."""
    log = served_api.log()
    for line in (
        '"POST /api/chat HTTP/1.1" 200',
        '/regenerate HTTP/1.1" 200',
        '"GET /api/search?q=',
        '/current HTTP/1.1" 200',
    ):
        assert line in log, line
    assert not re.search(r'HTTP/1\.1" 5\d\d ', log)  # no 5xx at all (503 included: the worker never went away)
