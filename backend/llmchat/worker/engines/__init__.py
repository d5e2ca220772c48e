"""The engines that generate tokens, behind one interface (base.py): `transformers` (PyTorch, the CUDA engine and
the reference, with runtime LoRA adapters) and `openvino` (OpenVINO GenAI continuous batching, the CPU engine)."""

from llmchat.worker.engines.base import EngineStats, QueueFull
from llmchat.worker.engines.choice import engine_kind

__all__ = ["EngineStats", "QueueFull", "engine_kind"]
