"""llmchat: self-hosted chat for open language models, with the fine-tuning pipeline that makes them."""

__version__ = "0.3.0"
