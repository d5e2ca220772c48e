"""The token budget: prompt tokens + max_tokens must fit the model's context.

The oldest turns go first. The system prompt and the few-shot header are part of every rendering, so they
are never dropped; if even the new message alone cannot fit, the request is refused (HTTP 400).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, trim_messages

from llmchat.memory.window import to_turns
from llmchat.prompts import Prompt


class MessageTooLong(ValueError):
    def __init__(self, prompt_tokens: int, max_tokens: int, context_length: int):
        self.prompt_tokens = prompt_tokens
        super().__init__(
            f"the message is too long for this model: the prompt needs {prompt_tokens} tokens and the reply "
            f"max_tokens={max_tokens}, but the context holds {context_length}; shorten the message or lower max_tokens"
        )


def fit_to_context(
    history: Sequence[BaseMessage],
    message: str,
    render: Callable[[list], Prompt],
    count_tokens: Callable[[Prompt], int],
    max_tokens: int,
    context_length: int,
    continuing: str | None = None,
) -> tuple[Prompt, int]:
    """The prompt with as much recent history as fits, and its token count.

    `continuing`: the partial reply to `message` that the model is to extend (Continue); it is kept like the
    message itself."""
    budget = context_length - max_tokens
    counted: dict[int, int] = {}

    def prompt_of(messages: list[BaseMessage]) -> Prompt:
        return render(to_turns(messages))

    tail = [HumanMessage(content=message)]
    if continuing is not None:
        tail.append(AIMessage(content=continuing))
    everything = [*history, *tail]

    def tokens_of(messages: list[BaseMessage]) -> int:
        # trim_messages(strategy="last") asks about the last n messages, handed over in reverse order: render
        # them in conversation order. Each count may be an HTTP call to the worker, so each n is counted once.
        size = len(messages)
        if size not in counted:
            counted[size] = count_tokens(prompt_of(everything[len(everything) - size :]))
        return counted[size]

    if tokens_of(everything) <= budget:
        return prompt_of(everything), counted[len(everything)]
    alone = tokens_of(tail)
    if alone > budget:
        raise MessageTooLong(alone, max_tokens, context_length)
    kept = trim_messages(
        everything, max_tokens=budget, token_counter=tokens_of, strategy="last", start_on="human", allow_partial=False
    )
    return prompt_of(kept), tokens_of(kept)
