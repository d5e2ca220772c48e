import pytest
import yaml

from llmchat.paths import PROJECT_ROOT
from llmchat.training.config import TrainConfig, load_config

LORA_YAML = PROJECT_ROOT / "configs/train/smollm2-lora.yaml"


def test_shipped_configs_load_as_typed_dataclasses():
    lora = load_config(LORA_YAML)
    full = load_config(PROJECT_ROOT / "configs/train/smollm2-full.yaml")
    assert isinstance(lora, TrainConfig) and lora.method == "lora" and lora.base_model == "smollm2-chat"
    assert full.method == "full" and full.lr_scheduler_type == "cosine" and full.learning_rate == 2e-5
    assert isinstance(lora.learning_rate, float) and isinstance(lora.lora_target_modules, list)


def test_set_overrides_are_typed():
    config = load_config(
        LORA_YAML,
        [
            "max_steps=5",
            "run_name=demo",
            "learning_rate=1e-4",
            "train_on_inputs=true",
            "lora_target_modules=q_proj, v_proj",
            "load_in=null",
            "validation_size=0.2",
        ],
    )
    assert config.max_steps == 5 and config.run_name == "demo"
    assert config.learning_rate == 1e-4 and config.train_on_inputs is True
    assert config.lora_target_modules == ["q_proj", "v_proj"] and config.load_in is None
    assert config.validation_size == 0.2
    assert config.lora_r == yaml.safe_load(LORA_YAML.read_text())["lora_r"]  # the rest is the file's


@pytest.mark.parametrize(
    "pair, message",
    [
        ("max_stepz=5", "unknown config key"),
        ("max_steps=five", "max_steps: expected int"),
        ("method=qlora", "method: 'qlora' is not one of full, lora"),
        ("train_on_inputs=maybe", "expected true or false"),
        ("max_steps", "--set expects key=value"),
    ],
)
def test_bad_overrides_name_the_key(pair, message):
    with pytest.raises(ValueError, match=message):
        load_config(LORA_YAML, [pair])


def test_fsdp_config_is_valid_for_accelerate():
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    config = load_config_from_file(str(PROJECT_ROOT / "configs/accelerate/fsdp.yaml"))
    assert config.distributed_type == DistributedType.FSDP
    assert config.fsdp_config["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"
    assert config.fsdp_config["fsdp_use_orig_params"] is True  # LoRA needs it under FSDP
    assert config.mixed_precision == "bf16"
