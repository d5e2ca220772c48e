"""The Data page's routes and a run's exports on a real API (admins only): datasets with their split and token
lengths, uploads checked row by row (nothing saved on a bad row), from-chats exports with the skip report, and a
run exported to GGUF + Modelfile by the `llmchat export` child process; a merged folder listed with its path and
the configs/models.yaml entry that serves it."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest
import yaml

from llmchat.models.config_file import read_config
from llmchat.models.manifest import write_manifest
from llmchat.paths import PROJECT_ROOT
from llmchat.store import ChatStore, FeedbackStore, open_database
from tests.support.api_server import api_config, from_address, start_api

pytestmark = pytest.mark.integration  # a real API and worker

KTO_CSV = "prompt,completion,label\nWhat is 2 + 2?,4,true\nWhat is 2 + 2?,5,false\n"


@pytest.fixture
def studio(tiny_model, tmp_path, monkeypatch):
    """An API whose configs (prompts, recipes on the tiny model), data/ and models/ are scratch folders."""
    configs, data, models = tmp_path / "configs", tmp_path / "data", tmp_path / "models"
    shutil.copytree(PROJECT_ROOT / "configs" / "prompts", configs / "prompts")
    (configs / "train").mkdir()
    for name, method in (("smollm2-lora", "lora"), ("smollm2-chats-kto", "kto"), ("short", "lora")):
        recipe = {"base_model": str(tiny_model), "method": method, "cutoff_len": 24 if name == "short" else 96}
        recipe |= {"validation_size": 4, "test_size": 0.25, "seed": 1}
        (configs / "train" / f"{name}.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    for name, value in (("CONFIG", configs), ("DATA", data), ("MODELS", models)):
        monkeypatch.setenv(f"LLMCHAT_{name}_DIR", str(value))
    from llmchat.training.datagen import make_examples, write_jsonl

    write_jsonl(make_examples(36, seed=2, unseen=4), data / "generated" / "alpaca_tasks.jsonl")
    database_url = f"sqlite:///{tmp_path / 'api.db'}"
    with start_api(api_config(database_url, ["http://127.0.0.1:9"])) as api:
        with httpx.Client(base_url=api.url, timeout=120) as client:
            yield client, api, tmp_path


def test_datasets_are_listed_with_split_and_token_lengths_for_a_recipe(studio):
    client, _api, _root = studio
    listing = client.get("/api/admin/data/datasets").json()
    assert [(d["id"], d["format"], d["rows"], d["error"]) for d in listing["datasets"]] == [
        ("generated/alpaca_tasks.jsonl", "alpaca", 40, None)
    ]
    assert {r["name"]: r["format"] for r in listing["recipes"]} == {
        "short": "alpaca",
        "smollm2-chats-kto": "kto",
        "smollm2-lora": "alpaca",
    }
    detail = client.get("/api/admin/data/datasets/generated/alpaca_tasks.jsonl").json()
    assert detail["recipe"] == "smollm2-lora" and len(detail["preview"]) == 20
    # 36 rows in the training phrasings: 9 (a quarter) + the 4 unseen test, 4 validation, the rest trains
    assert detail["split"] == {"train": 23, "validation": 4, "test": 13}
    lengths = detail["lengths"]
    assert sum(b["count"] for b in lengths["bins"]) == 40 and lengths["cutoff_len"] == 96
    short = client.get("/api/admin/data/datasets/generated/alpaca_tasks.jsonl?recipe=short").json()["lengths"]
    assert short["cutoff_len"] == 24 and short["over_cutoff"] == 40  # the Alpaca prompt alone is longer
    assert lengths["over_cutoff"] < 40 and lengths["max"] == short["max"]
    assert client.get("/api/admin/data/datasets/generated/nope.jsonl").status_code == 404
    assert client.get("/api/admin/data/datasets/etc/passwd").status_code == 404
    bad = client.get("/api/admin/data/datasets/generated/alpaca_tasks.jsonl?recipe=../app")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "recipe"


def test_an_upload_with_a_bad_row_names_its_line_and_saves_nothing(studio):
    client, _api, root = studio
    good = {"instruction": "Say hi.", "input": "", "output": "hi"}
    text = "\n".join([json.dumps(good), json.dumps(good), json.dumps({"instruction": "Say bye."}), "{broken"])
    answer = client.post("/api/admin/data/uploads", json={"name": "mine.jsonl", "format": "alpaca", "text": text})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["code"] == "bad_rows" and body["error"]["field"] == "text"
    assert "the first: line 3, field 'output': is missing" in body["error"]["message"] and body["error_count"] == 2
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "output"), (4, None)]
    assert not (root / "data" / "uploads" / "mine.jsonl").exists()

    fixed = "\n".join([json.dumps(good)] * 3)
    saved = client.post("/api/admin/data/uploads", json={"name": "mine.jsonl", "format": "alpaca", "text": fixed})
    assert saved.status_code == 201 and saved.json()["dataset"]["rows"] == 3
    again = client.post("/api/admin/data/uploads", json={"name": "mine.jsonl", "format": "alpaca", "text": fixed})
    assert again.status_code == 409 and again.json()["error"]["field"] == "name"
    kto = client.post("/api/admin/data/uploads", json={"name": "thumbs.csv", "format": "kto", "text": KTO_CSV})
    assert kto.status_code == 201 and kto.json()["dataset"]["format"] == "kto"
    ids = [d["id"] for d in client.get("/api/admin/data/datasets").json()["datasets"]]
    assert ids == ["generated/alpaca_tasks.jsonl", "uploads/mine.jsonl", "uploads/thumbs.csv"]
    wrong = client.post("/api/admin/data/uploads", json={"name": "x.txt", "format": "alpaca", "text": fixed})
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "name"


def test_from_chats_writes_kto_rows_with_the_skip_report(studio):
    client, api, root = studio
    database = open_database(api.app.extensions["llmchat"].config.database_url)
    store, feedback = ChatStore(database), FeedbackStore(database)
    conversation = store.create_conversation("ip:10.0.0.1", "math", "m").id
    prompt = store.add_message(conversation, "user", "What is 2 + 2?", model="m")
    reply = store.add_message(conversation, "assistant", "5", model="m", parent_id=prompt.id, params={})
    feedback.set_feedback("ip:10.0.0.1", reply.id, "down", "4")
    other = store.add_message(conversation, "user", "Hi", model="m", parent_id=reply.id)
    store.add_message(conversation, "assistant", "Hello", model="m", parent_id=other.id, params={})
    database.dispose()
    answer = client.post("/api/admin/data/from-chats", json={"format": "kto", "name": "thumbs"})
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["dataset"]["id"] == "chats/thumbs.jsonl" and result["dataset"]["rows"] == 2
    assert result["considered"] == 2 and result["skipped"] == {"no rating": 1}
    assert result["report"][0] == "wrote 2 kto rows to data/chats/thumbs.jsonl (from 2 candidates)"
    rows = [json.loads(line) for line in (root / "data" / "chats" / "thumbs.jsonl").read_text().splitlines()]
    assert [(r["completion"], r["label"]) for r in rows] == [("5", False), ("4", True)]
    bad = client.post("/api/admin/data/from-chats", json={"format": "kto", "recipe": "missing"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "recipe"


def test_a_run_is_exported_to_gguf_and_modelfile_over_http(studio, tiny_model):
    client, _api, root = studio
    run_dir = root / "models" / "runs" / "tiny-full"
    shutil.copytree(tiny_model, run_dir / "model")
    write_manifest(run_dir, "tiny-full", "full", str(tiny_model))
    assert client.get("/api/admin/runs/tiny-full/exports").json() == {"run": "tiny-full", "exports": [], "log": None}
    made = client.post("/api/admin/runs/tiny-full/exports", json={"gguf": ["Q4_0"]})
    assert made.status_code == 201, made.text
    exports = {e["name"]: e for e in made.json()["exports"]}
    assert set(exports) == {"exports/tiny-full-q4_0.gguf", "exports/tiny-full-q4_0.Modelfile"}
    modelfile = client.get(exports["exports/tiny-full-q4_0.Modelfile"]["url"])
    assert modelfile.status_code == 200 and modelfile.text.startswith("FROM ./tiny-full-q4_0.gguf\n")
    assert client.post("/api/admin/runs/nope/exports", json={"gguf": ["Q8_0"]}).status_code == 404
    assert client.post("/api/admin/runs/tiny-full/exports", json={"gguf": ["Q2_K"]}).status_code == 400
    assert client.get("/api/admin/runs/tiny-full/exports/..%2Fllmchat_run.json").status_code == 404


def test_a_merged_folder_comes_with_its_path_and_the_models_yaml_entry_that_serves_it(studio, tiny_model):
    client, _api, root = studio
    run_dir = root / "models" / "runs" / "tiny-lora"
    shutil.copytree(tiny_model, run_dir / "merged")  # what `llmchat export --merge` leaves: an HF folder
    write_manifest(run_dir, "tiny-lora", "lora", "tiny-chat")
    merged = client.get("/api/admin/runs/tiny-lora/exports").json()["exports"][0]
    assert (merged["name"], merged["kind"], merged["url"]) == ("merged", "hf", None)
    assert merged["path"] == str(run_dir / "merged")  # outside the project: absolute, as configs take it
    # the entry, pasted under `models:`, is one the worker's config reader takes, serving the merged weights
    (root / "models.yaml").write_text(f"models:\n{merged['serve']}", encoding="utf-8")
    (spec,) = read_config(root / "models.yaml", root / "models").specs
    assert (spec.id, spec.kind, spec.prompt_style) == ("tiny-lora-merged", "alpaca", "alpaca")
    assert spec.source == str(run_dir / "merged")


def test_the_studio_routes_are_for_admins_only(studio):
    _client, api, _root = studio
    with from_address(api.url, "127.0.0.2") as stranger:
        for method, path in (
            ("GET", "/api/admin/data/datasets"),
            ("GET", "/api/admin/data/datasets/generated/alpaca_tasks.jsonl"),
            ("POST", "/api/admin/data/uploads"),
            ("POST", "/api/admin/data/from-chats"),
            ("GET", "/api/admin/runs/x/exports"),
            ("POST", "/api/admin/runs/x/exports"),
        ):
            answer = stranger.request(method, path, json={} if method == "POST" else None)
            assert answer.status_code == 403, (method, path)
            assert answer.json()["error"]["code"] == "admin_only"
