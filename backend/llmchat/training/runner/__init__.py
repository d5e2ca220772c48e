"""The run queue: fine-tuning runs as detached OS processes, one at a time on a CPU (one per GPU on CUDA), whose
state lives on disk so that they outlive the API, the CLI and a page reload. See jobs.py (the records), queue.py
(submit, stop, resume, scheduling), shepherd.py (the process that watches one run and starts the next)."""
