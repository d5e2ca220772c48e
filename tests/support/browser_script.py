"""Run one of frontend/e2e/*.mjs (playwright-core in Debian's Chromium) against a running app, as the browser tests
do: `node e2e/<script> URL [screenshot dir]`, with a screenshot of the page saved where a step fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.servers import PROJECT_ROOT

FRONTEND = PROJECT_ROOT / "frontend"


def run_browser_script(
    script: str, url: str, chromium: Path, failshot: Path, shots: str = "", timeout: float = 540
) -> subprocess.CompletedProcess:
    env = {**os.environ, "LLMCHAT_CHROMIUM": str(chromium), "LLMCHAT_E2E_FAILSHOT": str(failshot)}
    result = subprocess.run(
        ["node", f"e2e/{script}", url, *([shots] if shots else [])],
        cwd=FRONTEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    print(result.stdout)  # the step list, shown with `pytest -s`
    return result
