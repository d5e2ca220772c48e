"""Models: one home for what a model is and where its weights are, under both the worker and training.

specs (typed entries), config_file (configs/models.yaml), sources (HF folder, GGUF, the packaged SmolLM2),
discovery + registry (configured models, adapters and finished runs), manifest (a run's llmchat_run.json),
loading (the one transformers loader), prepare (GGUF -> safetensors once), openvino_export (int8 IR once).
"""
