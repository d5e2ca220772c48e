"""Fine-tuning and evaluation: the dataset generator and checks, `finetune` (full / LoRA), `export`, `evaluate`.

Modules keep torch / transformers imports inside functions where the CLI imports them, so `llmchat --help`
stays instant.
"""
