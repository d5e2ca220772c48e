"""A Redis for the tests that need one: LLMCHAT_TEST_REDIS_URL (CI starts redis-server), else a redis-server of
our own on a free loopback port, without persistence. With neither, those tests skip, unless
LLMCHAT_REQUIRE_REDIS=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.support.servers import free_port, stop_process


def _answers(url: str, timeout: float) -> bool:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if redis.Redis.from_url(url, socket_timeout=1).ping():
                return True
        time.sleep(0.1)
    return False


def _unavailable(reason: str) -> None:
    if os.environ.get("LLMCHAT_REQUIRE_REDIS") == "1":
        pytest.fail(f"LLMCHAT_REQUIRE_REDIS=1 but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def redis_url() -> Iterator[str]:
    """The URL of an empty Redis database, for this test alone."""
    import redis

    url = os.environ.get("LLMCHAT_TEST_REDIS_URL")
    if url:
        if not _answers(url, timeout=5):
            _unavailable(f"LLMCHAT_TEST_REDIS_URL={url} does not answer")
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server is not installed (apt-get install redis-server) and LLMCHAT_TEST_REDIS_URL is unset")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="llmchat-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        if not _answers(url, timeout=10):
            raise RuntimeError(f"redis-server on port {port} did not start")
        yield url
    finally:
        stop_process(process)
