"""`llmchat export --merge`: the merged checkpoint computes what base + adapter computes, without peft."""

import json

import pytest

from tests.training.cli_helper import run_cli


def test_merged_and_adapter_models_give_identical_logits(lora_run, registry_env, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmchat.training.export import load_run_model

    out = tmp_path / "merged"
    assert run_cli(["export", str(lora_run), "--merge", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and not (out / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    adapted, _ = load_run_model(lora_run)
    ids = tokenizer(
        ["Below is an instruction.\n\n### Instruction:\nWhat is 4 + 4?\n\n### Response:\n"], return_tensors="pt"
    )["input_ids"]
    with torch.inference_mode():
        expected, actual = adapted(input_ids=ids).logits, merged(input_ids=ids).logits
    assert torch.allclose(expected, actual, atol=1e-4)


def test_export_by_run_id_and_errors(lora_run, registry_env, capsys):
    assert run_cli(["export", "tiny-lora"]) == 2  # neither --merge nor --gguf
    assert "choose --merge" in capsys.readouterr().err
    assert run_cli(["export", "no-such-run", "--merge"]) == 2
    assert "no finished run 'no-such-run'" in capsys.readouterr().err


def test_gguf_without_converter_says_what_is_missing(lora_run, registry_env, tmp_path, capsys, monkeypatch):
    from llmchat.training import export

    if export.find_gguf_converter() is not None:
        pytest.skip("a llama.cpp converter is installed here")
    monkeypatch.chdir(tmp_path)
    assert run_cli(["export", str(lora_run), "--merge", "--gguf", "--out", str(tmp_path / "m")]) == 2
    assert "convert_hf_to_gguf.py" in capsys.readouterr().err
