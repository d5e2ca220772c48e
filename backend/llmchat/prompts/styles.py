"""The three prompt styles. Each turns (system prompt, history, new message) into what the worker is sent.

- fewshot: a header (instruction + two example turns) then `Human: ...` / `AI: ...` lines; /v1/completions.
- alpaca: the Alpaca template; earlier turns are folded into `### Input:` ("method 2"); /v1/completions.
- chat: a list of messages for /v1/chat/completions; the worker applies the model's own chat template.

A conversation that ends with an assistant turn is a Continue: the prompt ends with that partial reply, in every
style, so the model carries on writing it (chat: the server continues the last assistant message instead of
opening a new one, vLLM's `continue_final_message`).
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
    continues: bool = False  # the prompt ends inside the assistant's reply (Continue)

    def chat_flags(self) -> dict[str, bool]:
        """The request fields that make a chat server continue the last assistant message (vLLM's names)."""
        if self.messages is None or not self.continues:
            return {}
        return {"continue_final_message": True, "add_generation_prompt": False}

    @property
    def endpoint(self) -> str:
        return "/v1/chat/completions" if self.messages is not None else "/v1/completions"

    def as_text(self) -> str:
        """Text whose token count stands for the prompt (chat: roughly what a chat template produces)."""
        if self.text is not None:
            return self.text
        opening = "" if self.continues else "<|assistant|>\n"
        return "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in self.messages or ()) + opening


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
        *done, last = turns
        for turn in done:
            text += self.turn.format(title=self._title(turn.role), content=turn.content.strip())
        if last.role == "assistant":  # Continue: the reply so far, exactly as it is
            text += self.turn.format(title=self.bot_title, content=last.content.lstrip())
            return Prompt(style="fewshot", text=text, stop=self.stop, continues=True)
        text += self.turn.format(title=self._title(last.role), content=last.content.strip())
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

    def input_text(self, system_prompt: str, history: Sequence[Turn]) -> str:
        """The `### Input:` of a turn: the system prompt, then the earlier turns as `Human: ...`/`AI: ...` lines
        (also what `llmchat data from-chats` writes as a training row's input, so training matches serving)."""
        lines = [system_prompt.strip()] if system_prompt.strip() else []
        lines += [self.history_turn.format(role=self.roles[t.role], content=t.content.strip()) for t in history]
        return "\n".join(lines)

    def render(self, system_prompt: str, turns: Sequence[Turn]) -> Prompt:
        partial = turns[-1].content if turns[-1].role == "assistant" else None
        *history, last = turns[:-1] if partial is not None else turns
        text = self.template.render(last.content.strip(), self.input_text(system_prompt, history))
        if partial is not None:  # Continue: the response so far follows the response header
            return Prompt(style="alpaca", text=text + partial.lstrip(), stop=self.template.stop, continues=True)
        return Prompt(style="alpaca", text=text, stop=self.template.stop)


def render_chat(system_prompt: str, turns: Sequence[Turn]) -> Prompt:
    messages = [{"role": "system", "content": system_prompt.strip()}] if system_prompt.strip() else []
    messages += [{"role": t.role, "content": t.content} for t in turns]
    return Prompt(style="chat", messages=tuple(messages), continues=turns[-1].role == "assistant")


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


DEFAULT_TITLE_INSTRUCTION = (
    "Here is the start of a conversation.\n\nUser: {message}\nAssistant: {reply}\n\n"
    "Write a title for this conversation in at most six words. Reply with the title only."
)
TITLE_REPLY_CHARS = 500  # the start of the reply is enough to title it, and keeps the extra generation small


def load_title_instruction(directory: Path | None = None) -> str:
    try:
        return str(read_template("title", directory)["instruction"])
    except (ValueError, KeyError):  # a prompts folder of its own without title.yaml: the built-in wording
        return DEFAULT_TITLE_INSTRUCTION


class PromptBuilder:
    """Templates read once from configs/prompts/; rendering keeps no state, so threads can share it."""

    def __init__(self, directory: Path | None = None):
        self.fewshot = load_fewshot_template(directory)
        self.alpaca = load_alpaca_chat(directory)
        self.title_instruction = load_title_instruction(directory)

    def title_prompt(self, style: str, message: str, reply: str) -> Prompt:
        """The request for a conversation's title (from its first exchange), as one user message in the model's
        style."""
        instruction = self.title_instruction.replace("{message}", message.strip()).replace(
            "{reply}", reply.strip()[:TITLE_REPLY_CHARS]
        )
        return self.render(style, "", [Turn("user", instruction)])

    def render(self, style: str, system_prompt: str, turns: Sequence[Turn]) -> Prompt:
        """`turns` end with the user's message, or with it and the partial reply to continue."""
        if not turns or (turns[-1].role != "user" and (len(turns) < 2 or turns[-2].role != "user")):
            raise ValueError("a prompt must end with the user's message (and, to continue it, the reply so far)")
        if style == "fewshot":
            return self.fewshot.render(system_prompt, turns)
        if style == "alpaca":
            return self.alpaca.render(system_prompt, turns)
        if style == "chat":
            return render_chat(system_prompt, turns)
        raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")
