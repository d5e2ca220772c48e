"""An Ollama Modelfile for a GGUF that llmchat wrote from a fine-tuning run.

A run learns the Alpaca prompt (prompts/alpaca.py; the worker serves runs with `prompt_style: alpaca`), so
Ollama must write the same text around the user's message: TEMPLATE is the Alpaca no-input prompt with Ollama's
`{{ .Prompt }}` where the instruction goes, and the template's stop strings become `PARAMETER stop` lines (the
end-of-text token is in the GGUF's metadata, which Ollama reads itself).
"""

from __future__ import annotations

import json

from llmchat.prompts import AlpacaTemplate

INSTRUCTION_SLOT = "\x00instruction\x00"  # stands in for the instruction while the template is escaped


def _go_template(template: AlpacaTemplate) -> str:
    """The Alpaca prompt as an Ollama (Go) template: literal `{{` in the text escaped, the slot made `.Prompt`."""
    text = template.render(INSTRUCTION_SLOT)
    text = text.replace("{{", '{{ "{{" }}')
    return text.replace(INSTRUCTION_SLOT, "{{ .Prompt }}")


def ollama_modelfile(gguf_name: str, template: AlpacaTemplate) -> str:
    """The Modelfile text; `gguf_name` is the GGUF's file name in the Modelfile's own folder."""
    body = _go_template(template)
    if '"""' in body:
        raise ValueError('the Alpaca template holds """, which a Modelfile cannot quote')
    lines = [f"FROM ./{gguf_name}", f'TEMPLATE """{body}"""']
    lines += [f"PARAMETER stop {json.dumps(stop)}" for stop in template.stop]
    return "\n".join(lines) + "\n"
