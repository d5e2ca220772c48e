"""weight_format in configs/models.yaml and the worker section, and what `auto` picks by parameter count."""

from __future__ import annotations

import json

import pytest

from llmchat.models.config_file import read_config
from llmchat.models.openvino_export import export_format
from llmchat.models.specs import ConfigError
from llmchat.models.weight_formats import int4_group_size, parameter_count, resolve_weight_format
from llmchat.worker.settings import WorkerSettings
from tests.support.tiny_model import write_models_yaml

SMOLLM2_135M = {  # HuggingFaceTB/SmolLM2-135M-Instruct's config.json
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "vocab_size": 49152,
    "tie_word_embeddings": True,
}
SHAPE_1B = {  # bench/real_shapes.py's 1B shape
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 49152,
    "tie_word_embeddings": True,
}
LLAMA_3_2_1B = {**SHAPE_1B, "num_attention_heads": 32, "vocab_size": 128256, "head_dim": 64}
LLAMA_3_1_8B = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
}


@pytest.mark.parametrize(
    ("config", "millions"),
    [(SMOLLM2_135M, 134.5), (SHAPE_1B, 1073.8), (LLAMA_3_2_1B, 1235.8), (LLAMA_3_1_8B, 8030.3)],
)
def test_parameter_count_from_the_config(config, millions):
    assert parameter_count(config) / 1e6 == pytest.approx(millions, abs=0.1)


@pytest.mark.parametrize(
    ("config", "expected"), [(SMOLLM2_135M, "int8"), (SHAPE_1B, "int4"), (LLAMA_3_2_1B, "int4"), (LLAMA_3_1_8B, "int4")]
)
def test_auto_keeps_int8_for_small_models_and_takes_int4_from_1b(config, expected):
    assert resolve_weight_format("auto", parameter_count(config)) == expected


def test_an_explicit_format_is_kept_whatever_the_size():
    assert resolve_weight_format("int8", 8_000_000_000) == "int8"
    assert resolve_weight_format("fp16", 1) == "fp16"
    with pytest.raises(ValueError, match="weight_format must be one of auto, int8, int4, fp16"):
        resolve_weight_format("int3", 1)


@pytest.mark.parametrize(("hidden", "group"), [(2048, 128), (576, 64), (64, 64), (96, 32), (3072, 128), (100, -1)])
def test_int4_group_size_divides_the_hidden_size(hidden, group):
    assert int4_group_size(hidden) == group


def test_auto_reads_the_folders_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(SHAPE_1B), encoding="utf-8")
    assert export_format(tmp_path, "auto") == "int4"
    (tmp_path / "config.json").write_text(json.dumps(SMOLLM2_135M), encoding="utf-8")
    assert export_format(tmp_path, "auto") == "int8"


def test_entries_take_a_weight_format(tiny_model_path, tmp_path):
    entries = [
        {"id": "a", "kind": "chat", "source": str(tiny_model_path), "weight_format": "int4"},
        {"id": "b", "kind": "chat", "source": str(tiny_model_path)},
    ]
    specs = read_config(write_models_yaml(tmp_path / "m.yaml", entries), tmp_path).specs
    assert [spec.weight_format for spec in specs] == ["int4", None]


def test_a_bad_weight_format_names_the_entry_and_field(tiny_model_path, tmp_path):
    entries = [{"id": "a", "kind": "chat", "source": str(tiny_model_path), "weight_format": "int2"}]
    with pytest.raises(ConfigError, match=r"id 'a'.*field 'weight_format': must be one of auto, int8, int4, fp16"):
        read_config(write_models_yaml(tmp_path / "m.yaml", entries), tmp_path)


def test_worker_section_weight_format_and_kv_cache_precision():
    assert WorkerSettings.from_section({}).weight_format == "auto"
    settings = WorkerSettings.from_section({"weight_format": "int4", "kv_cache_precision": "f16"})
    assert (settings.weight_format, settings.kv_cache_precision) == ("int4", "f16")
    for field, value in (("weight_format", "int5"), ("kv_cache_precision", "u4")):
        with pytest.raises(ConfigError, match=f"field '{field}'"):
            WorkerSettings.from_section({field: value})


def test_models_list_shows_each_entrys_weight_format(tiny_model_path, tmp_path, capsys):
    from llmchat.cli import main
    from llmchat.models.gguf_writer import write_llama_gguf

    gguf = write_llama_gguf(tiny_model_path, tmp_path / "tiny.Q4_0.gguf", "Q4_0")
    entries = [
        {"id": "hf-auto", "kind": "chat", "source": str(tiny_model_path)},
        {"id": "hf-int4", "kind": "chat", "source": str(tiny_model_path), "weight_format": "int4"},
        {"id": "gguf", "kind": "chat", "source": str(gguf)},
    ]
    config = write_models_yaml(tmp_path / "m.yaml", entries, worker={"engine": "openvino"})
    assert main(["models", "list", "--config", str(config), "--models-dir", str(tmp_path / "models")]) == 0
    table = capsys.readouterr().out.split("\n\n")[0]  # the models; Ollama's store follows after a blank line
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert (rows["hf-auto"][5], rows["hf-int4"][5], rows["gguf"][5:7]) == ("int8", "int4", ["gguf", "Q4_0"])
