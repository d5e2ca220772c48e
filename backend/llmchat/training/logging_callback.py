"""A TrainerCallback that appends every log event (train loss, eval loss, lr) to log.jsonl in the run folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback

from llmchat.models.run_files import read_log

__all__ = ["JsonlLogCallback", "read_log"]


class JsonlLogCallback(TrainerCallback):
    """One JSON object per Trainer log call; only the main process writes (FSDP launches several)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.started = time.monotonic()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            "max_steps": state.max_steps,  # the run's total, for progress and its ETA
            "elapsed_s": round(time.monotonic() - self.started, 2),
            **logs,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
