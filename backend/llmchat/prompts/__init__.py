"""Prompt styles: how a conversation becomes the text (or messages) a model is given.

Templates are data in configs/prompts/; this package only renders them.
"""

from llmchat.prompts.alpaca import AlpacaTemplate, load_alpaca_template

__all__ = ["AlpacaTemplate", "load_alpaca_template"]
