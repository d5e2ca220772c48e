"""The Alpaca instruction template, shared by fine-tuning and serving."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmchat.prompts.loader import read_template


@dataclass(frozen=True)
class AlpacaTemplate:
    no_input: str
    with_input: str
    stop: tuple[str, ...]

    def render(self, instruction: str, input: str = "") -> str:
        """The prompt text up to and including the response header (the model writes after it)."""
        if input and input.strip():
            return self.with_input.format(instruction=instruction, input=input) + "\n"
        return self.no_input.format(instruction=instruction) + "\n"


def load_alpaca_template(directory: Path | None = None) -> AlpacaTemplate:
    data = read_template("alpaca", directory)
    return AlpacaTemplate(
        no_input=data["no_input"],
        with_input=data["with_input"],
        stop=tuple(data.get("stop", ())),
    )
