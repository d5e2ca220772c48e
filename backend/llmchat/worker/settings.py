"""The worker's own settings: the `worker:` section of configs/models.yaml, then the command line and environment."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ByteSize, ConfigDict, Field, ValidationError

from llmchat.models.specs import ConfigError, first_problem
from llmchat.models.weight_formats import WEIGHT_FORMATS

DEFAULT_MAX_BODY_BYTES = 4 * 2**20  # a 4 MiB prompt is ~1M tokens: beyond any context this worker serves


class WorkerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: Literal["auto", "transformers", "openvino"] = "auto"  # auto: transformers on CUDA, OpenVINO on CPU
    # OpenVINO exports of models that do not name one: auto = int8 below ~1B parameters, int4 symmetric from there
    weight_format: Literal[WEIGHT_FORMATS] = "auto"
    # OpenVINO's KV cache element type; auto: the CPU plugin's choice (u8 on this CPU kind: half of bf16's memory)
    kv_cache_precision: Literal["auto", "u8", "bf16", "f16", "f32"] = "auto"
    max_batch_size: int = Field(16, ge=1)  # sequences decoded together in one step
    max_queue: int = Field(64, ge=1)  # requests waiting for a batch slot; beyond it: 503
    threads: int | None = Field(None, ge=1)  # CPU threads of either engine; None: min(2, cores)
    preload: bool = True  # load the config file's models at start-up (pinned first, as many as the limits allow)
    # loading and unloading (docs/worker.md, "Loading and unloading"); None: no limit. An engine with requests is never
    # unloaded: past a limit the pool loads over it and unloads the least recently used idle engine once one is idle
    max_loaded_models: int | None = Field(None, ge=1)  # engines loaded at once (entries sharing weights count once)
    max_loaded_bytes: ByteSize | None = Field(None, gt=0)  # their weights' size on disk in all ("8GiB", or bytes)
    idle_unload_s: float | None = Field(None, gt=0)  # unload an unpinned engine unused this long
    load_timeout_s: float = Field(120.0, gt=0)  # a request waits this long for its model's load, then 503 + Retry-After
    # prompt tokens prefilled between two decode steps while others stream (transformers; one prompt always goes)
    max_prefill_tokens_per_step: int = Field(2048, ge=1)
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=1024)  # larger request bodies: 413
    max_tokenize_backlog_chars: int = Field(8_000_000, ge=1)  # text waiting for the tokenizer; beyond it: 503
    # the llama-server binary of models on `engine: llama.cpp`; None: $LLMCHAT_LLAMA_SERVER, else the one
    # `make llama-server` builds (var/llama.cpp/bin/), else llama-server on PATH (engines/llamacpp_process.py)
    llama_server: str | None = None
    api_key: str | None = None  # when set, every route but /health needs `Authorization: Bearer`

    @classmethod
    def from_section(cls, section: dict, source: str = "worker") -> WorkerSettings:
        """The `worker:` mapping (as read from models.yaml) with LLMCHAT_WORKER_API_KEY on top."""
        values = dict(section)
        if os.environ.get("LLMCHAT_WORKER_API_KEY"):
            values["api_key"] = os.environ["LLMCHAT_WORKER_API_KEY"]
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            name, problem = first_problem(exc)
            raise ConfigError(f"{source}: field '{name}': {problem}") from exc
