"""Is a recorded process still ours and alive, and how many runs may train at once."""

from __future__ import annotations

import os
from pathlib import Path

SHEPHERD_MODULE = "llmchat.training.runner.shepherd"


def alive(pid: int | None, marker: str = SHEPHERD_MODULE) -> bool:
    """The process `pid` exists, is not a zombie, and its command line names `marker` (a reused pid does not)."""
    if not pid:
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return _signalable(pid) if not Path("/proc/self").is_dir() else False  # no procfs: the signal test only
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and marker in command


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def training_slots() -> int:
    """Runs that may train at once: one per CUDA device (each gets its own), else one (a CPU runs one well).
    torch is only imported where an NVIDIA device node exists, so a CPU machine's API never loads it."""
    if not any(Path("/dev").glob("nvidia[0-9]*")):
        return 1
    import torch

    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 1
