"""`llmchat finetune`: full or LoRA fine-tuning of a causal LM on Alpaca-format data with the HF Trainer, a
DPO LoRA on preference rows with TRL's DPOTrainer (dpo.py), or a KTO LoRA on thumbs-up/down rows with TRL's
KTOTrainer (kto.py).

The Trainer runs on accelerate, so the same code trains on this CPU, one GPU, or many GPUs with
`accelerate launch --config_file configs/accelerate/fsdp.yaml -m llmchat.cli finetune ...` (FSDP).
Everything a run makes goes to models/runs/<run>/; llmchat_run.json is written last, when all else is there.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmchat.models.manifest import MANIFEST, weights_folder, write_manifest
from llmchat.models.run_files import CONFIG_FILE, LOG_FILE
from llmchat.paths import models_dir
from llmchat.prompts import load_alpaca_template
from llmchat.training import data as datafile
from llmchat.training import dpo, kto
from llmchat.training.config import TrainConfig, save_config
from llmchat.training.encoding import PadCollator, encode_records
from llmchat.training.run_benchmarks import benchmark_after_training, check_benchmark_data, side_by_side


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict[str, Any]
    stopped_at: int | None = None  # the step a SIGTERM stopped it at (checkpoint saved), else None


def prepare_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """A fresh folder, or the old one kept for --resume; never silently mixes two runs."""
    if run_dir.exists() and any(run_dir.iterdir()) and not resume:
        if not overwrite:
            raise ValueError(
                f"{run_dir} already holds a run: pass --resume to continue it, "
                f"--overwrite to replace it, or --set run_name=<new name>"
            )
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / MANIFEST).unlink(missing_ok=True)  # a resumed run is unfinished until it writes this again


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _use_bf16(setting: str) -> bool:
    import torch

    if setting == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return setting.lower() in ("true", "1", "yes")


def training_arguments(config: TrainConfig, run_dir: Path, has_validation: bool) -> dict[str, Any]:
    """The Trainer's arguments (`TrainingArguments`, or TRL's `DPOConfig` that extends them) as keywords."""
    evaluate = "steps" if has_validation and config.eval_steps > 0 else "no"
    return dict(
        output_dir=str(run_dir / "checkpoints"),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size * 2,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float below 1 is a ratio of the total steps
        lr_scheduler_type=config.lr_scheduler_type,
        bf16=_use_bf16(config.bf16),
        logging_steps=config.logging_steps,
        logging_first_step=True,
        eval_strategy=evaluate,
        eval_on_start=evaluate == "steps",  # the validation curve starts at the untrained model
        eval_steps=config.eval_steps if evaluate == "steps" else None,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=config.dataloader_num_workers,
        dataloader_pin_memory=_cuda(),  # pinning only helps host->GPU copies
        remove_unused_columns=False,  # our collator needs input_ids and labels as they are
        report_to="none",
        disable_tqdm=False,
    )


def _write_jsonl(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_finetune(
    config: TrainConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    models_root: Path | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """`stop`: once set (`llmchat finetune` sets it on SIGTERM: stop_signal.py), training ends at the next step
    with a checkpoint, and the run is left unfinished for --resume."""
    import math

    import torch
    from transformers import set_seed

    from llmchat.training.logging_callback import JsonlLogCallback, read_log
    from llmchat.training.modeling import apply_method, load_base
    from llmchat.training.plot import plot_loss
    from llmchat.training.stop_signal import stop_callback

    started = time.monotonic()
    if config.torch_threads > 0:
        torch.set_num_threads(config.torch_threads)
    set_seed(config.seed)
    run_dir = config.run_dir(models_root or models_dir())
    # read and check the data before touching the run folder or loading a model: bad data fails in a second
    split = _split_for(config)
    check_benchmark_data(config)
    prepare_run_dir(run_dir, resume, overwrite)

    model, tokenizer = load_base(config)
    model = apply_method(model, config)
    stop = stop or threading.Event()  # in-process callers (tests, notebooks) keep their own SIGTERM handling
    callbacks = [JsonlLogCallback(run_dir / LOG_FILE), stop_callback(stop)]
    trainer = _trainer(config, run_dir, model, tokenizer, split, callbacks)
    train_output = trainer.train(resume_from_checkpoint=_last_checkpoint(run_dir) if resume else None)
    if stop.is_set():  # stopped: the checkpoint is saved; no manifest, so the run stays unfinished
        return RunResult(run_dir, {}, stopped_at=train_output.global_step)
    eval_metrics = trainer.evaluate() if trainer.eval_dataset is not None else {}

    out_name = weights_folder(config.method)
    trainer.save_model(str(run_dir / out_name))  # peft: the adapter only; full: the whole HF checkpoint
    if not trainer.is_world_process_zero():
        return RunResult(run_dir, {})
    tokenizer.save_pretrained(str(run_dir / out_name))

    data_hash = datafile.file_sha256(config.data)
    test = {"dpo": dpo.as_alpaca, "kto": kto.as_alpaca}.get(config.method, list)(split.test)
    metrics = {
        "train_loss": train_output.training_loss,
        "train_runtime_s": train_output.metrics.get("train_runtime"),
        "global_step": train_output.global_step,
        "eval_loss": eval_metrics.get("eval_loss"),
        "eval_perplexity": math.exp(eval_metrics["eval_loss"]) if "eval_loss" in eval_metrics else None,
        "examples": {
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
            "test_unseen_phrasings": sum(1 for r in split.test if r.get("phrasing") == datafile.UNSEEN),
        },
        "trainable_parameters": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
        "wall_time_s": round(time.monotonic() - started, 1),
        "data_sha256": data_hash,
    }
    if config.method == "dpo":  # DPO's eval loss is the preference loss, not a perplexity
        metrics["eval_perplexity"] = None
        metrics["eval_reward_accuracy"] = eval_metrics.get("eval_rewards/accuracies")
    if config.method == "kto":  # KTO's too; the margin: reward of the held-out ups minus that of the downs
        metrics["eval_perplexity"] = None
        metrics["eval_reward_margin"] = eval_metrics.get("eval_rewards/margins")
    benchmarks = benchmark_after_training(config, run_dir, trainer.model, tokenizer, models_root or models_dir())
    if benchmarks is not None:
        metrics["benchmarks"] = side_by_side(benchmarks)
    save_config(config, run_dir / CONFIG_FILE)
    (run_dir / "data.sha256").write_text(f"{data_hash}  {config.data}\n", encoding="utf-8")
    _write_jsonl(test, run_dir / "test.jsonl")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    plot_loss(read_log(run_dir / LOG_FILE), run_dir / "loss.png", title=f"{config.run_name} ({config.method})")
    write_manifest(
        run_dir,
        config.run_name,
        config.method,
        config.base_model,
        data=str(config.data),
        data_sha256=data_hash,
        eval_loss=metrics["eval_loss"],
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    return RunResult(run_dir, metrics)


def _trainer(
    config: TrainConfig, run_dir: Path, model: Any, tokenizer: Any, split: datafile.Split, callbacks: list
) -> Any:
    """DPO / KTO: TRL's trainer on preference / rated rows. lora / full: the HF Trainer on encoded Alpaca records."""
    from transformers import Trainer, TrainingArguments

    template = load_alpaca_template()
    preference_trainer = {"dpo": dpo.dpo_trainer, "kto": kto.kto_trainer}.get(config.method)
    if preference_trainer is not None:
        arguments = training_arguments(config, run_dir, has_validation=len(split.validation) > 0)
        return preference_trainer(
            config, arguments, model, tokenizer, split.train, split.validation, template, callbacks
        )
    train_set = encode_records(tokenizer, template, split.train, config.cutoff_len, config.train_on_inputs)
    validation_set = encode_records(tokenizer, template, split.validation, config.cutoff_len, config.train_on_inputs)
    return Trainer(
        model=model,
        args=TrainingArguments(**training_arguments(config, run_dir, has_validation=len(validation_set) > 0)),
        train_dataset=train_set,
        eval_dataset=validation_set if len(validation_set) else None,
        data_collator=PadCollator(pad_token_id=tokenizer.pad_token_id),
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def _split_for(config: TrainConfig) -> datafile.Split:
    """The run's train / validation / test split: the same for the same data file and seed."""
    rows = datafile.load_rows(config.data, datafile.METHOD_FORMATS[config.method])
    return datafile.split_examples(rows, config.validation_size, config.test_size, config.seed)


def _last_checkpoint(run_dir: Path) -> str:
    from transformers.trainer_utils import get_last_checkpoint

    folder = run_dir / "checkpoints"
    last = get_last_checkpoint(str(folder)) if folder.is_dir() else None
    if last is None:
        raise ValueError(f"--resume: no checkpoint in {folder} yet (checkpoints are saved every save_steps)")
    return last
