"""Replies that outlive the page, in Debian's Chromium: a real worker whose tiny model writes long replies (the
transformers engine, end-of-text ignored: a reply of 1500 tokens takes seconds), the real chat API serving a fresh
build of frontend/, driven by frontend/e2e/jobs.mjs: leave a conversation mid-reply and come back (the sidebar says
"answering…", the reply is still growing and finishes), reload mid-reply (the page follows it again and it
finishes), Stop on a re-attached reply.

Skips when Chromium, node or frontend/node_modules are missing, unless LLMCHAT_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import pytest

from llmchat.api.config import ModelSettings
from tests.api.test_nothing_lost import MODEL, long_worker  # noqa: F401 (a fixture)
from tests.e2e.test_browser import run_browser_script
from tests.support.api_server import api_config, start_api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_replies_outlive_the_page_in_chromium(requirements_met, dist, long_worker, tmp_path):  # noqa: F811
    config = api_config(
        f"sqlite:///{tmp_path / 'jobs.db'}",
        [long_worker.url],
        frontend_dist=str(dist),
        models={MODEL: ModelSettings(extra_body={"ignore_eos": True})},
    )
    with start_api(config) as api:
        run_browser_script("e2e/jobs.mjs", api.url, long_worker, tmp_path, timeout_ms=90000)
