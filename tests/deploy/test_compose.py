"""docker-compose.yml cannot run here (no Docker engine): check that it parses, wires the services the
README promises, and that every command it runs is a real llmchat command line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from llmchat.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfiles(compose) -> list[Path]:
    """The Dockerfiles the compose services build: each must exist (a missing one fails here, so the checks
    below never pass over an empty list), and the api and the worker are both built from this repository."""
    built = {
        name: ROOT / service["build"]["context"] / service["build"]["dockerfile"]
        for name, service in compose["services"].items()
        if "build" in service
    }
    assert {"api", "worker"} <= set(built), f"services built from this repository: {sorted(built)}"
    missing = [str(path.relative_to(ROOT)) for path in built.values() if not path.is_file()]
    assert not missing, f"docker-compose.yml builds from Dockerfiles that do not exist: {missing}"
    return sorted(set(built.values()))


def test_services_are_wired(compose):
    services = compose["services"]
    assert {"api", "worker", "db", "vllm"} <= set(services)
    assert services["vllm"]["profiles"] == ["vllm"]
    assert services["api"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["api"]["environment"]["LLMCHAT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "./models:/app/models" in services["worker"]["volumes"]
    gpu = services["worker"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]


def _llmchat_command_lines(text: str) -> list[list[str]]:
    """Every `llmchat ...` invocation in a compose command or a Dockerfile CMD."""
    lines = []
    for chunk in re.split(r"&&|\n", text):
        words = shlex.split(chunk.strip().strip("[]").replace('", "', " ").replace('"', ""))
        if "llmchat" in words:
            lines.append(words[words.index("llmchat") + 1 :])
    return lines


def test_every_llmchat_command_parses(compose, dockerfiles):
    parser = build_parser()
    commands = []
    for service in compose["services"].values():
        command = service.get("command")
        if command and "llmchat" in " ".join(command):
            commands += _llmchat_command_lines(" ".join(command))
    for dockerfile in dockerfiles:
        cmds = [line for line in dockerfile.read_text().splitlines() if line.startswith("CMD")]
        assert cmds, f"{dockerfile.name} has no CMD"
        for line in cmds:
            commands += _llmchat_command_lines(line[3:])
    assert len(commands) >= 4
    for words in commands:
        args = parser.parse_args(words)  # exits (SystemExit) on an unknown command or option
        assert args.handler is not None


def test_dockerfiles_copy_paths_that_exist(dockerfiles):
    for dockerfile in dockerfiles:
        copies = [
            line for line in dockerfile.read_text().splitlines() if line.startswith("COPY") and "--from" not in line
        ]
        assert copies, f"{dockerfile.name} copies nothing from the repository"
        for line in copies:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source} does not exist"


def test_the_monitoring_profile_scrapes_what_the_api_and_worker_serve(compose):
    services = compose["services"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]
    address = services["prometheus"]["networks"]["monitoring"]["ipv4_address"]
    api_env = services["api"]["environment"]
    assert address in api_env["LLMCHAT_METRICS_NETWORKS"].split(",")
    assert "api" in api_env["LLMCHAT_ALLOWED_HOSTS"].split(",")  # the Host Prometheus sends
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in scrape["scrape_configs"]}
    assert targets == {"llmchat-api": ["api:5000"], "llmchat-worker": ["worker:8001"]}
    for volume in services["prometheus"]["volumes"] + services["grafana"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).exists(), volume


def test_the_dashboard_queries_metrics_the_code_defines():
    import json

    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "llmchat.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in re.findall(r"llmchat:[a-z0-9_:]+", target["expr"])
    }
    code = (ROOT / "backend/llmchat/worker/metrics.py").read_text() + (
        ROOT / "backend/llmchat/api/metrics.py"
    ).read_text()
    for name in queried:
        base = re.sub(r"_(bucket|total)$", "", name)
        assert f'"{base}"' in code, f"the dashboard queries {name}, which nothing exports"
    assert len(queried) >= 10
