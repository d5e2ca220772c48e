"""method: kto — a real KTO run (TRL's KTOTrainer, LoRA) of the tiny model on thumbs-up/down rows without pairs:
its outputs, its manifest, and that it moves the model toward the good answers and away from the bad ones."""

import json

import pytest

from llmchat.paths import PROJECT_ROOT
from llmchat.prompts import load_alpaca_template
from llmchat.training.data import load_examples, load_kto
from tests.training.cli_helper import run_cli
from tests.training.conftest import TINY_ID, tiny_preference_settings, tiny_train_settings, train_tiny

KTO_YAML = PROJECT_ROOT / "configs/train/smollm2-kto.yaml"


@pytest.fixture(scope="module")
def kto_data(tmp_path_factory):
    from llmchat.training.datagen import make_kto_rows, write_jsonl

    return write_jsonl(make_kto_rows(48, seed=5), tmp_path_factory.mktemp("kto") / "kto.jsonl")


@pytest.fixture(scope="module")
def kto_run(registry_dirs, kto_data):
    settings = tiny_preference_settings(kto_data, run_name="tiny-kto", method="kto", kto_beta=0.1)
    return train_tiny(registry_dirs, KTO_YAML.name, settings)


def test_kto_run_writes_an_adapter_and_a_lora_manifest(kto_run):
    manifest = json.loads((kto_run / "llmchat_run.json").read_text())
    assert {k: manifest[k] for k in ("id", "kind", "method", "base_model", "path", "status")} == {
        "id": "tiny-kto",
        "kind": "lora",
        "method": "kto",
        "base_model": TINY_ID,
        "path": "adapter",
        "status": "complete",
    }
    assert (kto_run / "adapter" / "adapter_model.safetensors").is_file()
    metrics = json.loads((kto_run / "metrics.json").read_text())
    assert metrics["global_step"] == 12 and metrics["examples"]["train"] == 40
    assert metrics["eval_perplexity"] is None and metrics["eval_reward_margin"] is not None
    log = [json.loads(line) for line in (kto_run / "log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in log) and any("eval_loss" in r for r in log)
    # the held-out thumbs-up rows, as Alpaca records: `llmchat evaluate` reads them like any run's
    test = load_examples(kto_run / "test.jsonl")
    assert 0 < len(test) <= 4


def _mean_logp(model, tokenizer, rows) -> float:
    import torch

    template = load_alpaca_template()
    total = 0.0
    for row in rows:
        prompt_ids = tokenizer(template.render(row["prompt"], row["input"]))["input_ids"]
        answer_ids = tokenizer(row["completion"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([prompt_ids + answer_ids])).logits[0, len(prompt_ids) - 1 : -1]
        total += logits.log_softmax(-1).gather(1, torch.tensor(answer_ids)[:, None]).sum().item()
    return total / len(rows)


def test_kto_raises_the_good_answers_over_the_bad_ones(kto_run, registry_env, kto_data):
    """Against the reference (the base, adapter disabled): good answers gain log-probability relative to bad ones."""
    from llmchat.training.export import load_run_model

    model, tokenizer = load_run_model(kto_run)
    rows = load_kto(kto_data)[:16]
    good, bad = [r for r in rows if r["label"]], [r for r in rows if not r["label"]]
    with model.disable_adapter():
        before = _mean_logp(model, tokenizer, good) - _mean_logp(model, tokenizer, bad)
    after = _mean_logp(model, tokenizer, good) - _mean_logp(model, tokenizer, bad)
    assert after > before + 1.0, (before, after)


def test_kto_config_refuses_a_batch_of_one_and_alpaca_rows(registry_env, tmp_path, capsys):
    settings = ["--set", "batch_size=1"]
    assert run_cli(["finetune", "--config", str(KTO_YAML), *settings]) == 2
    assert "batch_size: method kto needs at least 2 rows per batch" in capsys.readouterr().err
    alpaca = tmp_path / "a.jsonl"
    alpaca.write_text(json.dumps({"instruction": "Say hi.", "input": "", "output": "hi"}) + "\n", encoding="utf-8")
    settings = [
        arg for pair in tiny_train_settings(alpaca, method="kto", output_dir=tmp_path / "x") for arg in ("--set", pair)
    ]
    assert run_cli(["finetune", "--config", str(KTO_YAML), *settings]) == 2
    assert "field 'prompt': is missing" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
