"""Stopping a run on SIGTERM with a checkpoint kept: the signal only raises a flag; at the end of the step being
trained the Trainer saves a checkpoint and leaves its loop, so `llmchat finetune --resume` continues from there.

The run queue (training/runner) stops a run this way; a plain kill would lose every step since the last periodic
checkpoint. `llmchat finetune` installs the handler first thing (stop_request), so a stop that comes while the data
or the model loads is kept too: the run then stops after its first step. Works for a run started by hand (`kill PID`).
"""

from __future__ import annotations

import signal
import threading


def stop_request(signum: int = signal.SIGTERM) -> threading.Event:
    """An event set by `signum` from now on (main thread only: elsewhere signals cannot be handled)."""
    requested = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signum, lambda number, frame: requested.set())
    return requested


def stop_callback(requested: threading.Event):
    """A TrainerCallback that saves a checkpoint and ends training at the first step end after `requested` is set."""
    from transformers import TrainerCallback

    class StopOnRequest(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if requested.is_set():
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopOnRequest()
