"""method: dpo — a real DPO run (TRL's DPOTrainer, LoRA) of the tiny model: its outputs, its manifest, and that it
moves the model toward the chosen answers."""

import json

from llmchat.paths import PROJECT_ROOT
from llmchat.prompts import load_alpaca_template
from llmchat.training.config import load_config
from llmchat.training.data import load_examples, load_preferences
from tests.training.cli_helper import run_cli
from tests.training.conftest import TINY_ID, tiny_train_settings

DPO_YAML = PROJECT_ROOT / "configs/train/smollm2-dpo.yaml"


def test_dpo_run_writes_an_adapter_and_a_lora_manifest(dpo_run):
    for name in (
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
        "config.yaml",
        "metrics.json",
        "log.jsonl",
        "loss.png",
        "test.jsonl",
        "llmchat_run.json",
    ):
        assert (dpo_run / name).is_file(), name
    manifest = json.loads((dpo_run / "llmchat_run.json").read_text())
    assert {k: manifest[k] for k in ("id", "kind", "method", "base_model", "prompt_style", "path", "status")} == {
        "id": "tiny-dpo",
        "kind": "lora",
        "method": "dpo",
        "base_model": TINY_ID,
        "prompt_style": "alpaca",
        "path": "adapter",
        "status": "complete",
    }
    metrics = json.loads((dpo_run / "metrics.json").read_text())
    assert metrics["global_step"] == 12 and metrics["examples"]["train"] == 40
    assert 0 < metrics["trainable_parameters"] < 200_000  # the adapter only, not the base
    log = [json.loads(line) for line in (dpo_run / "log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in log) and any("eval_loss" in r for r in log)
    # the held-out rows, as Alpaca records with the chosen answer: `llmchat evaluate` reads them like any run's
    test = load_examples(dpo_run / "test.jsonl")
    assert len(test) == 4 and all(r["output"] and r["instruction"] for r in test)


def _margin(model, tokenizer, rows) -> float:
    """Mean of log p(chosen | prompt) - log p(rejected | prompt) under the model, on the Alpaca prompt."""
    import torch

    template = load_alpaca_template()

    def logp(prompt: str, answer: str) -> float:
        prompt_ids = tokenizer(prompt)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids = torch.tensor([prompt_ids + answer_ids])
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].log_softmax(-1)
        return logits.gather(1, torch.tensor(answer_ids)[:, None]).sum().item()

    margins = []
    for row in rows:
        prompt = template.render(row["prompt"], row["input"])
        margins.append(logp(prompt, row["chosen"]) - logp(prompt, row["rejected"]))
    return sum(margins) / len(margins)


def test_dpo_moves_the_model_toward_the_chosen_answers(dpo_run, registry_env, preference_data):
    """The reference is the base with the adapter disabled: the trained adapter must prefer `chosen` more."""
    from llmchat.training.export import load_run_model

    model, tokenizer = load_run_model(dpo_run)
    rows = load_preferences(preference_data)[:16]
    with model.disable_adapter():
        before = _margin(model, tokenizer, rows)
    after = _margin(model, tokenizer, rows)
    assert after > before + 1.0, (before, after)


def test_dpo_on_alpaca_rows_names_the_missing_field(registry_env, task_data, tmp_path, capsys):
    settings = tiny_train_settings(task_data, method="dpo", output_dir=tmp_path / "x")
    code = run_cli(["finetune", "--config", str(DPO_YAML), *[arg for p in settings for arg in ("--set", p)]])
    assert code == 2
    assert "field 'prompt': is missing" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # failed before a run folder was made


def test_dpo_config_is_valid():
    config = load_config(DPO_YAML)
    assert config.method == "dpo" and config.base_model == "smollm2-chat" and config.dpo_beta > 0
