"""One request inside the transformers engine: its reply text (worker/reply.py) and its sampling state."""

from __future__ import annotations

from collections.abc import Callable

from llmchat.worker.engines.base import Event, GenerationHandle, GenerationRequest, TokenLogprob
from llmchat.worker.engines.transformers.sampling import Sampler
from llmchat.worker.reply import Reply


class Sequence(Reply):
    def __init__(
        self,
        request: GenerationRequest,
        sink: Callable[[Event], None],
        handle: GenerationHandle,
        tokenizer,
        eos_ids: frozenset[int],
        vocab_size: int,
        device,
    ):
        super().__init__(
            request.prompt_ids,
            request.max_tokens,
            request.stop,
            frozenset() if request.ignore_eos else eos_ids,
            tokenizer,
            sink,
            handle,
        )
        self.request = request
        self.sampler = Sampler(request.sampling, request.prompt_ids, vocab_size, device)

    def accept(self, token_id: int, logprob: TokenLogprob | None = None) -> None:
        """Take the token chosen for this sequence: the sampler remembers it (repetition penalty), the reply sends
        the text it makes safe and ends if it ends the reply."""
        if token_id not in self.eos_ids:
            self.sampler.observe(token_id)
        super().accept(token_id, logprob)
