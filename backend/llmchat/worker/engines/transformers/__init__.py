"""The transformers engine: PyTorch weights (fp32 on CPU, bf16 on CUDA), llmchat's own continuous batching over a
shared left-padded KV cache, batched sampling, runtime LoRA adapters mixed in one batch (peft). The CUDA engine,
and the reference the OpenVINO engine is checked against."""
