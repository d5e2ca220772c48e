"""Prompt styles: how a conversation becomes the text (or messages) a model is given.

Templates are data in configs/prompts/; this package only renders them.
"""

from llmchat.prompts.alpaca import AlpacaTemplate, load_alpaca_template
from llmchat.prompts.cutting import StreamCutter, clean_reply, cut_at_stop
from llmchat.prompts.styles import PROMPT_STYLES, Prompt, PromptBuilder, Turn

__all__ = [
    "PROMPT_STYLES",
    "AlpacaTemplate",
    "Prompt",
    "PromptBuilder",
    "StreamCutter",
    "Turn",
    "clean_reply",
    "cut_at_stop",
    "load_alpaca_template",
]
