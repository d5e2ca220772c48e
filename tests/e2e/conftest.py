"""What both browser suites need: Chromium, node and frontend/node_modules (else they skip, or fail under
LLMCHAT_REQUIRE_BROWSER=1), and one fresh build of the web app for the session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import PROJECT_ROOT

FRONTEND = PROJECT_ROOT / "frontend"
CHROMIUM = Path(os.environ.get("LLMCHAT_CHROMIUM", "/usr/bin/chromium"))


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not installed"
    if not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        return "frontend/node_modules missing (run `npm ci` in frontend/)"
    return None


@pytest.fixture(scope="session")
def requirements_met() -> None:
    reason = _missing()
    if reason:
        if os.environ.get("LLMCHAT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"LLMCHAT_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def dist(requirements_met, tmp_path_factory) -> Path:
    """A fresh production build in a temporary folder (frontend/dist is left alone), once for both browser suites:
    a vite build takes a good part of a minute on two cores."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        ["npm", "run", "build", "--", "--outDir", str(out), "--emptyOutDir"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"vite build failed:\n{result.stdout}\n{result.stderr}"
    assert (out / "index.html").is_file()
    return out
