"""Stopping a run on SIGTERM with a checkpoint kept: the signal only raises a flag; at the end of the step being
trained the Trainer saves a checkpoint and leaves its loop, so `llmchat finetune --resume` continues from there.

The run queue (training/runner) stops a run this way; a run without a checkpoint yet would lose all its steps to a
plain kill. The callback also works for a `llmchat finetune` started by hand (`kill PID`).
"""

from __future__ import annotations

import signal
import threading

from transformers import TrainerCallback


class StopOnSignal(TrainerCallback):
    """Installs a SIGTERM handler (main thread only) that asks the Trainer to save and stop at the next step end."""

    def __init__(self, signum: int = signal.SIGTERM):
        self.requested = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.requested.set()

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested.is_set():
            control.should_save = True
            control.should_training_stop = True
        return control
