"""The run queue on real processes: a LoRA run of the tiny model started over HTTP, its loss points arriving over
SSE while it trains, stopped with a checkpoint and resumed to the end; a run that outlives a killed API and is
picked up by a new one; and the form's and Evaluate's checks (each bad value a 400 naming its field, admins
only; only a finished run is evaluated)."""

from __future__ import annotations

import json
import signal

import httpx
import pytest

from llmchat.training.runner.processes import alive
from tests.support.api_server import api_config, from_address, start_api, start_serve_process
from tests.support.run_queue import PRESET, make_queue_dirs, read_events
from tests.support.waiting import wait_for
from tests.training.cli_helper import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.integration]  # trains, in processes of their own (a few seconds a run)
NO_WORKER = "http://127.0.0.1:9"  # the queue needs no model server


@pytest.fixture
def queue_dirs(registry_dirs, task_data, tmp_path, monkeypatch):
    config_dir, models_dir = make_queue_dirs(registry_dirs[0], task_data, tmp_path / "queue")
    monkeypatch.setenv("LLMCHAT_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("LLMCHAT_MODELS_DIR", str(models_dir))
    return config_dir, models_dir


@pytest.fixture
def api(queue_dirs, tmp_path):
    with start_api(api_config(f"sqlite:///{tmp_path / 'api.db'}", [NO_WORKER])) as server:
        yield server


def job_record(models_dir, run_id: str) -> dict:
    return json.loads((models_dir / "run-queue" / run_id / "job.json").read_text())


def status(client: httpx.Client, run_id: str) -> str:
    return client.get(f"/api/admin/runs/{run_id}").json()["status"]


def first_loss(name: str, data: dict) -> bool:
    return name == "point" and "loss" in data


def test_a_run_streams_loss_points_stops_with_a_checkpoint_and_resumes_to_the_end(api, queue_dirs, task_data):
    config_dir, models_dir = queue_dirs
    body = {"preset": PRESET, "values": {"run_name": "queued-lora", "max_steps": 20, "learning_rate": 0.02}}
    with httpx.Client(base_url=api.url, timeout=60) as client:
        form = client.get("/api/admin/runs/form").json()
        assert {"lora", "full", "dpo"} <= set(form["methods"])
        assert PRESET in [preset["name"] for preset in form["presets"]]
        lr = next(setting for setting in form["settings"] if setting["name"] == "learning_rate")
        assert lr["min"] > 0 and lr["max"] <= 1

        preset_path = (config_dir / "train" / f"{PRESET}.yaml").resolve()
        expected = f"llmchat finetune --config {preset_path} --set run_name=queued-lora --set learning_rate=0.02"
        assert client.post("/api/admin/runs/command", json=body).json()["command"] == expected

        created = client.post("/api/admin/runs", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "running" and created.json()["command"] == expected

        # the loss arrives over SSE while the run trains; then stop it
        seen = read_events(client, "queued-lora", first_loss)
        assert seen[0][0] == "run" and first_loss(*seen[-1])
        stopping = client.post("/api/admin/runs/queued-lora/stop")
        assert stopping.status_code == 200 and stopping.json()["status"] in ("stopping", "stopped")
        wait_for(lambda: status(client, "queued-lora") == "stopped", timeout=120, what="the run to stop")

        stopped = client.get("/api/admin/runs/queued-lora").json()
        run_dir = models_dir / "runs" / "queued-lora"
        checkpoints = sorted(int(p.name.split("-")[1]) for p in (run_dir / "checkpoints").glob("checkpoint-*"))
        assert checkpoints and checkpoints[-1] == stopped["progress"]["step"] < 20  # saved where it stopped
        assert not (run_dir / "llmchat_run.json").exists() and stopped["report"] is None
        assert client.post("/api/admin/runs/queued-lora/stop").status_code == 409
        refused = client.post("/api/admin/runs/queued-lora/evaluate", json={"tasks": ["arc_easy"]})
        assert refused.status_code == 409 and "only a finished run" in refused.json()["error"]["message"]

        resumed = client.post("/api/admin/runs/queued-lora/resume")
        assert resumed.status_code == 200 and resumed.json()["status"] == "running"
        seen = read_events(client, "queued-lora", lambda name, data: name == "end")
        end = seen[-1][1]
        assert end["status"] == "finished" and end["attempts"] == 2 and end["report"]["global_step"] == 20
        steps = [point["step"] for point in end["points"] if "loss" in point]
        assert steps[0] == 1 and steps[-1] == 20 and checkpoints[-1] in steps
        assert any("eval_loss" in point for point in end["points"])
        assert (run_dir / "llmchat_run.json").is_file()
        output = (models_dir / "run-queue" / "queued-lora" / "output.log").read_text()
        assert f"$ {expected}\n" in output and f"$ {expected} --resume\n" in output  # the command shown is run


def test_a_run_outlives_a_killed_api_and_a_new_api_picks_it_up(queue_dirs, tmp_path):
    _, models_dir = queue_dirs
    config = {
        "database_url": f"sqlite:///{tmp_path / 'api.db'}",
        "worker_urls": [NO_WORKER],
        "frontend_dist": "/nonexistent",
        "log_level": "WARNING",
    }
    body = {"preset": PRESET, "values": {"run_name": "outlives", "max_steps": 30}}
    with start_serve_process(config) as first_api, httpx.Client(base_url=first_api.url, timeout=60) as client:
        assert client.post("/api/admin/runs", json=body).status_code == 201
        read_events(client, "outlives", first_loss)
        first_api.process.send_signal(signal.SIGKILL)
        first_api.process.wait(timeout=30)
    shepherd = job_record(models_dir, "outlives")["shepherd_pid"]
    assert alive(shepherd)  # training goes on with no API at all

    with start_serve_process(config) as second_api, httpx.Client(base_url=second_api.url, timeout=60) as client:
        listed = client.get("/api/admin/runs").json()["runs"]
        assert [run["id"] for run in listed] == ["outlives"]
        seen = read_events(client, "outlives", lambda name, data: name == "end")
    end = seen[-1][1]
    assert end["status"] == "finished" and end["attempts"] == 1 and end["report"]["global_step"] == 30
    assert job_record(models_dir, "outlives")["shepherd_pid"] == shepherd  # the same process saw it through


def test_the_form_refuses_bad_values_naming_the_field(api, queue_dirs):
    def refused(values: dict, preset: str = PRESET) -> tuple[int, str | None]:
        answer = client.post("/api/admin/runs", json={"preset": preset, "values": values})
        return answer.status_code, answer.json()["error"].get("field")

    with httpx.Client(base_url=api.url, timeout=60) as client:
        assert refused({"learning_rate": 5}) == (400, "learning_rate")
        assert refused({"lora_r": 0}) == (400, "lora_r")
        assert refused({"method": "magic"}) == (400, "method")
        assert refused({"no_such_key": 1}) == (400, "no_such_key")
        assert refused({"data": "/nonexistent/rows.jsonl"}) == (400, "data")
        assert refused({"run_name": "../escape"}) == (400, "run_name")
        assert refused({}, preset="nope") == (400, "preset")
        assert client.post("/api/admin/runs", json={"preset": PRESET, "values": [1]}).status_code == 400
        assert client.get("/api/admin/runs").json()["runs"] == []  # nothing was queued
        assert client.get("/api/admin/runs/missing").status_code == 404
        assert client.post("/api/admin/runs/missing/stop").status_code == 404
        assert client.post("/api/admin/runs/missing/resume").status_code == 404
    assert not (queue_dirs[1] / "run-queue").exists()  # refusals and questions about nothing write nothing
    with from_address(api.url, "127.0.0.2") as stranger:  # not in admin_ips
        assert stranger.get("/api/admin/runs").status_code == 403
        assert stranger.post("/api/admin/runs", json={"preset": PRESET}).status_code == 403


def test_evaluate_refuses_unknown_benchmarks_naming_the_field(api, queue_dirs):
    with httpx.Client(base_url=api.url, timeout=60) as client:
        unknown = client.post("/api/admin/runs/missing/evaluate", json={"tasks": ["arc_easy", "no_such_task"]})
        assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "tasks.1"
        assert "arc_challenge" in unknown.json()["error"]["message"]  # says which tasks there are
        not_a_list = client.post("/api/admin/runs/missing/evaluate", json={"tasks": "arc_easy"})
        assert not_a_list.status_code == 400 and not_a_list.json()["error"]["field"] == "tasks"
        assert client.post("/api/admin/runs/missing/evaluate", json={"tasks": ["mmlu"]}).status_code == 404
    assert not (queue_dirs[1] / "run-queue").exists()


def test_the_cli_queues_runs_one_at_a_time_and_the_next_starts_with_nobody_asking(queue_dirs, capsys):
    _, models_dir = queue_dirs
    for name in ("first", "second", "third"):
        assert run_cli(["runs", "start", "--preset", PRESET, "--set", f"run_name={name}", "--set", "max_steps=5"]) == 0
    assert [job_record(models_dir, name)["status"] for name in ("first", "second", "third")] == [
        "running",
        "queued",
        "queued",
    ]
    assert run_cli(["runs", "stop", "second"]) == 0  # a queued run just leaves the queue
    assert run_cli(["runs", "list"]) == 0
    listed = capsys.readouterr().out
    assert "second: stopped (stopped before it started)" in listed
    assert [line.split()[:2] for line in listed.splitlines()[-3:]] == [
        ["first", "running"],
        ["second", "stopped"],
        ["third", "queued"],
    ]

    # the records on disk, read without asking the queue anything: first's own shepherd starts third
    wait_for(lambda: job_record(models_dir, "third")["status"] == "finished", timeout=300, what="third to finish")
    first, third = job_record(models_dir, "first"), job_record(models_dir, "third")
    assert first["status"] == "finished" and first["ended"] <= third["started"]
    assert job_record(models_dir, "second")["status"] == "stopped"
    assert run_cli(["runs", "logs", "third", "--follow", "-n", "1000"]) == 0
    logs = capsys.readouterr().out
    assert logs.startswith("$ llmchat finetune --config ") and logs.rstrip().endswith("-- third: finished")
    assert run_cli(["runs", "start", "--preset", PRESET, "--set", "run_name=third"]) == 2  # exists
    assert run_cli(["runs", "start", "--preset", PRESET, "--set", "lora_alpha=0"]) == 2
    assert "lora_alpha: 0 is outside the allowed range" in capsys.readouterr().err
