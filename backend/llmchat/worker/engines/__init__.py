"""The engines that generate tokens, behind one interface (base.py): `transformers` (PyTorch, the CUDA engine and
the reference, with runtime LoRA adapters), `openvino` (OpenVINO GenAI continuous batching, the CPU engine) and
`llama.cpp` (llama.cpp's llama-server as a child process, for a GGUF entry that asks for it)."""

from llmchat.worker.engines.base import EngineStats, QueueFull
from llmchat.worker.engines.choice import engine_kind

__all__ = ["EngineStats", "QueueFull", "engine_kind"]
