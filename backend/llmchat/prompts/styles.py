"""The three prompt styles. Each turns (system prompt, history, new message) into what the worker is sent.

- fewshot: a header (instruction + two example turns) then `Human: ...` / `AI: ...` lines; /v1/completions.
- alpaca: the Alpaca template; earlier turns are folded into `### Input:` ("method 2"); /v1/completions.
- chat: a list of messages for /v1/chat/completions; the worker applies the model's own chat template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmchat.prompts.alpaca import AlpacaTemplate, load_alpaca_template
from llmchat.prompts.loader import read_template

PROMPT_STYLES = ("fewshot", "alpaca", "chat")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Prompt:
    """What to send: `text` for /v1/completions or `messages` for /v1/chat/completions, and where to stop."""

    style: str
    text: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    stop: tuple[str, ...] = field(default=())

    @property
    def endpoint(self) -> str:
        return "/v1/chat/completions" if self.messages is not None else "/v1/completions"

    def as_text(self) -> str:
        """Text whose token count stands for the prompt (chat: roughly what a chat template produces)."""
        if self.text is not None:
            return self.text
        return "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in self.messages or ()) + "<|assistant|>\n"


@dataclass(frozen=True)
class FewshotTemplate:
    header: str
    user_title: str
    bot_title: str
    system_line: str
    turn: str
    stop: tuple[str, ...]

    def render(self, system_prompt: str, turns: Sequence[Turn]) -> Prompt:
        text = self._header(system_prompt)
        for turn in turns:
            text += self.turn.format(title=self._title(turn.role), content=turn.content.strip())
        # no space after the bot title: a BPE tokenizer writes " word" as one token, so the model adds it
        text += self.turn.format(title=self.bot_title, content="").rstrip(" ")
        return Prompt(style="fewshot", text=text, stop=self.stop)

    def _title(self, role: str) -> str:
        return self.user_title if role == "user" else self.bot_title

    def _header(self, system_prompt: str) -> str:
        if not system_prompt.strip():
            return self.header
        # the system prompt goes on the line after the header's first paragraph (the instruction)
        first, _, rest = self.header.partition("\n\n")
        line = self.system_line.format(system_prompt=system_prompt.strip())
        return f"{first}\n{line}\n\n{rest}" if rest else f"{first}\n{line}"


@dataclass(frozen=True)
class AlpacaChat:
    template: AlpacaTemplate
    history_turn: str
    roles: dict[str, str]

    def render(self, system_prompt: str, turns: Sequence[Turn]) -> Prompt:
        *history, last = turns
        lines = [system_prompt.strip()] if system_prompt.strip() else []
        lines += [self.history_turn.format(role=self.roles[t.role], content=t.content.strip()) for t in history]
        text = self.template.render(last.content.strip(), "\n".join(lines))
        return Prompt(style="alpaca", text=text, stop=self.template.stop)


def render_chat(system_prompt: str, turns: Sequence[Turn]) -> Prompt:
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    messages += [{"role": t.role, "content": t.content} for t in turns]
    return Prompt(style="chat", messages=tuple(messages))


def load_fewshot_template(directory: Path | None = None) -> FewshotTemplate:
    data = read_template("fewshot", directory)
    return FewshotTemplate(
        header=data["header"],
        user_title=data["user_title"],
        bot_title=data["bot_title"],
        system_line=data.get("system_line", "{system_prompt}"),
        turn=data.get("turn", "\n{title} {content}"),
        stop=tuple(data.get("stop", ())),
    )


def load_alpaca_chat(directory: Path | None = None) -> AlpacaChat:
    data = read_template("alpaca", directory)
    return AlpacaChat(
        template=load_alpaca_template(directory),
        history_turn=data.get("history_turn", "{role}: {content}"),
        roles=dict(data.get("roles", {"user": "Human", "assistant": "AI"})),
    )


class PromptBuilder:
    """Templates read once from configs/prompts/; rendering keeps no state, so threads can share it."""

    def __init__(self, directory: Path | None = None):
        self.fewshot = load_fewshot_template(directory)
        self.alpaca = load_alpaca_chat(directory)

    def render(self, style: str, system_prompt: str, turns: Sequence[Turn]) -> Prompt:
        if not turns or turns[-1].role != "user":
            raise ValueError("a prompt must end with the user's message")
        if style == "fewshot":
            return self.fewshot.render(system_prompt, turns)
        if style == "alpaca":
            return self.alpaca.render(system_prompt, turns)
        if style == "chat":
            return render_chat(system_prompt, turns)
        raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")
