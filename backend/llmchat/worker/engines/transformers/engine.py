"""Continuous batching for one loaded model: a scheduler thread decodes every active sequence in one forward pass.

Each step: run queued tasks (adapter loading), prefill waiting requests (several in one forward pass) and merge
them into the batch, run one decode step for all rows, choose every row's next token at once (sampling.py), drop
the rows that finished or were cancelled. Nothing holds a lock across a forward
pass, so a new request only waits for the current step to end.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

import torch

from llmchat.worker.engines.base import (
    EngineStats,
    Event,
    GenerationHandle,
    GenerationRequest,
    QueueFull,
    TokenLogprob,
    private_tokenizer_copy,
)
from llmchat.worker.engines.logprobs import prompt_tokens, scored_tokens
from llmchat.worker.engines.transformers.batch_state import BatchState
from llmchat.worker.engines.transformers.prefill import padded_inputs, prefill_groups
from llmchat.worker.engines.transformers.sampling import choose_tokens
from llmchat.worker.engines.transformers.sequence import Sequence

log = logging.getLogger("llmchat.worker")
BASE_ADAPTER = "__base__"  # peft's name for "no adapter" in a mixed-adapter batch
IDLE_WAIT_S = 0.5


def eos_ids_of(model, tokenizer) -> frozenset[int]:
    """EOS from the tokenizer and the generation config (which may list several)."""
    ids = {tokenizer.eos_token_id}
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(configured if isinstance(configured, (list, tuple)) else [configured])
    return frozenset(i for i in ids if i is not None)


class Engine:
    kind = "transformers"
    can_score = True  # logprobs come from the logits every step computes anyway

    def __init__(
        self,
        name: str,
        model,
        tokenizer,
        context_length: int,
        *,
        max_batch_size: int = 16,
        max_queue: int = 64,
        max_prefill_tokens_per_step: int = 2048,
    ):
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        # the engine thread decodes with its own copy: a fast tokenizer shared with the encoding server thread can
        # fail with "Already borrowed" when both touch it at once
        self._decode_tokenizer = private_tokenizer_copy(tokenizer)
        # the server encodes prompts on its thread pool (a long prompt must not block the event loop): one at a time
        self.encode_lock = threading.Lock()
        self.context_length = context_length
        self.max_batch_size = max_batch_size
        self.max_queue = max_queue
        self.max_prefill_tokens_per_step = max_prefill_tokens_per_step
        self.device = next(model.parameters()).device
        self.vocab_size = model.get_output_embeddings().weight.shape[0]
        self.eos_ids = eos_ids_of(model, tokenizer)
        self.adapters: set[str] = set()
        self.stats = EngineStats()
        self._waiting: collections.deque[Sequence] = collections.deque()
        self._tasks: collections.deque[tuple[Callable[[], object], Future]] = collections.deque()
        self._active: list[Sequence] = []
        self._batch = BatchState(self.device)
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"engine-{name}", daemon=True)
        self._thread.start()

    # ---- called from other threads ----

    @property
    def device_type(self) -> str:
        return self.device.type

    @property
    def queue_depth(self) -> int:
        return len(self._waiting)

    @property
    def active_count(self) -> int:
        return len(self._active)

    def submit(
        self, request: GenerationRequest, sink: Callable[[Event], None], handle: GenerationHandle | None = None
    ) -> GenerationHandle:
        """Queue a request; `sink` receives its events on the engine thread. Raises QueueFull."""
        handle = handle or GenerationHandle()
        sequence = Sequence(request, sink, handle, self._decode_tokenizer, self.eos_ids, self.vocab_size, self.device)
        with self._wake:
            if len(self._waiting) >= self.max_queue:
                raise QueueFull(f"{len(self._waiting)} requests are waiting for model {self.name}")
            self._waiting.append(sequence)
            self._wake.notify()
        return handle

    def call(self, task: Callable[[], object]) -> Future:
        """Run `task` on the engine thread between two steps (model changes must not race a forward pass)."""
        future: Future = Future()
        with self._wake:
            self._tasks.append((task, future))
            self._wake.notify()
        return future

    def ensure_adapter(self, adapter_name: str, adapter_path) -> Future:
        """Load a peft adapter onto the shared base once; later calls return at once (no reload)."""
        return self.call(lambda: self._load_adapter(adapter_name, adapter_path))

    def close(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout)
        # the weights and the KV cache leave with the engine (the pool unloads it), even if something still holds it
        self.model = None
        self._batch = BatchState(self.device)

    # ---- the engine thread ----

    def _run(self) -> None:
        with torch.inference_mode():
            while True:
                with self._wake:
                    while not (self._stopping or self._tasks or self._waiting or self._active):
                        self._wake.wait(IDLE_WAIT_S)
                    if self._stopping:
                        break
                self._run_tasks()
                self._admit()
                if self._active:
                    self._decode_step()
        for sequence in [*self._active, *self._waiting]:
            sequence.fail("the worker is shutting down")

    def _run_tasks(self) -> None:
        while self._tasks:
            task, future = self._tasks.popleft()
            try:
                future.set_result(task())
            except Exception as exc:  # the caller gets the error; the engine goes on
                future.set_exception(exc)

    def _load_adapter(self, adapter_name: str, adapter_path) -> bool:
        if adapter_name in self.adapters:
            return False
        from peft import PeftModel

        if isinstance(self.model, PeftModel):
            self.model.load_adapter(str(adapter_path), adapter_name=adapter_name, is_trainable=False)
        else:
            self.model = PeftModel.from_pretrained(
                self.model, str(adapter_path), adapter_name=adapter_name, is_trainable=False
            )
        self.model.eval()
        self.adapters.add(adapter_name)
        self.stats.adapter_loads += 1
        log.info("engine %s: adapter %s loaded from %s", self.name, adapter_name, adapter_path)
        return True

    def _cancel(self, sequence: Sequence) -> None:
        self.stats.cancelled += 1
        sequence.cancel()

    def _forward(self, sequences: list[Sequence], **inputs):
        if self.adapters:  # a batch may mix adapters: peft routes each row through its own LoRA weights
            inputs["adapter_names"] = [s.request.adapter or BASE_ADAPTER for s in sequences]
        return self.model(**inputs)

    def _admit(self) -> None:
        """Prefill waiting requests: while others stream, at most `max_prefill_tokens_per_step` prompt tokens a
        step (one prompt always goes), so the running streams pause briefly; as many as fit when the batch is empty
        (nobody waits on it then). Arrivals of similar length share one forward pass.

        A budget in tokens, not in requests: sixteen short chat turns arriving together are prefilled in one pass
        (a budget of 4 requests took 4 passes with decode steps between and cost 20 % of the throughput at 16
        streams), while four long documents still cannot stall everyone for seconds."""
        with self._wake:  # clients that gave up while waiting free their queue places at once
            gone = [sequence for sequence in self._waiting if sequence.handle.cancelled]
            for sequence in gone:
                self._waiting.remove(sequence)
        for sequence in gone:
            self._cancel(sequence)
        budget = self.max_prefill_tokens_per_step if self._active else None
        admitted: list[Sequence] = []
        tokens = 0
        while self._waiting and len(self._active) + len(admitted) < self.max_batch_size:
            with self._wake:
                sequence = self._waiting[0]
                length = len(sequence.request.prompt_ids)
                if admitted and budget is not None and tokens + length > budget:
                    break
                self._waiting.popleft()
            if sequence.handle.cancelled:
                self._cancel(sequence)
            else:
                sequence.handle.admitted()
                admitted.append(sequence)
                tokens += length
        for group in prefill_groups([len(sequence.request.prompt_ids) for sequence in admitted]):
            sequences = [admitted[index] for index in group]
            try:
                self._prefill(sequences)
            except Exception:  # a request the engine cannot take fails alone, never the engine thread
                log.exception("prefill failed on %s", self.name)
                for sequence in sequences:
                    if sequence not in self._active:
                        sequence.fail("generation failed (see the worker's log)")

    def _prefill(self, sequences: list[Sequence]) -> None:
        """One forward pass over these prompts; their first tokens are chosen and the rows join the batch.

        A prompt to score (echo) needs the logits of every position, not just the last: it runs alone, so the
        pass holds one prompt's logits (positions × vocab) and no padding."""
        from transformers import DynamicCache

        echo = any(sequence.request.echo for sequence in sequences)
        if echo and len(sequences) > 1:
            for sequence in sequences:
                self._prefill([sequence])
            return
        inputs = padded_inputs([sequence.request.prompt_ids for sequence in sequences], self.device)
        cache = DynamicCache(config=getattr(self.model, "config", None))
        try:
            output = self._forward(
                sequences, **inputs, past_key_values=cache, use_cache=True, logits_to_keep=0 if echo else 1
            )
            last = output.logits[:, -1, :]
            tokens, errors = choose_tokens([sequence.sampler for sequence in sequences], last)
            if echo:
                request = sequences[0].request
                sequences[0].prompt_scored(
                    prompt_tokens(self._decode_tokenizer, output.logits[0], request.prompt_ids, request.logprobs or 0)
                )
            entries = self._token_logprobs(sequences, last, tokens)
        except Exception:
            if len(sequences) > 1:  # one bad request must not fail the others that arrived with it
                for sequence in sequences:
                    self._prefill([sequence])
                return
            log.exception("prefill failed on %s", self.name)
            sequences[0].fail("generation failed (see the worker's log)")
            return
        self.stats.prefills += len(sequences)
        self.stats.prefill_passes += 1
        joining = []
        for row, (sequence, token) in enumerate(zip(sequences, tokens)):
            if sequence.request.max_tokens == 0:  # only the prompt's logprobs were asked for
                sequence.end("length")
                continue
            if row in errors:
                self._fail_sampling(sequence, errors[row])
                continue
            self.stats.tokens_generated += 1
            sequence.accept(token, entries[row])
            if not sequence.finished:
                joining.append(row)
        if joining:
            self._batch.add_rows(
                output.past_key_values, inputs["attention_mask"], [tokens[row] for row in joining], joining
            )
            self._active.extend(sequences[row] for row in joining)
            self.stats.max_batch_seen = max(self.stats.max_batch_seen, len(self._active))

    def _token_logprobs(
        self, sequences: list[Sequence], logits: torch.Tensor, tokens: list[int]
    ) -> list[TokenLogprob | None]:
        """The chosen tokens' entries for the rows that asked for logprobs (None for the others)."""
        entries: list[TokenLogprob | None] = [None] * len(sequences)
        for row, sequence in enumerate(sequences):
            if sequence.request.logprobs is not None:
                top_n = sequence.request.logprobs
                entries[row] = scored_tokens(self._decode_tokenizer, logits[row : row + 1], [tokens[row]], top_n)[0]
        return entries

    def _fail_sampling(self, sequence: Sequence, error: Exception) -> None:
        """This row's own sampling failed (a tiny repetition_penalty makes its scores infinite): it alone fails."""
        log.warning("sampling failed on %s: %s", self.name, error)
        sequence.fail(f"generation failed: {error}")

    def _decode_step(self) -> None:
        try:
            output = self._forward(self._active, **self._batch.step_inputs(), logits_to_keep=1)
            last = output.logits[:, -1, :]
            tokens, errors = choose_tokens([sequence.sampler for sequence in self._active], last)
            entries = self._token_logprobs(self._active, last, tokens)
        except Exception:  # a failed forward pass fails its rows, never the worker
            log.exception("decode step failed on %s", self.name)
            for sequence in self._active:
                sequence.fail("generation failed (see the worker's log)")
            self._active, self._batch = [], BatchState(self.device)
            return
        for row, error in errors.items():  # the row leaves the batch at the end of this step
            self._fail_sampling(self._active[row], error)
        self.stats.steps += 1
        self.stats.tokens_generated += len(tokens) - len(errors)
        self._batch.advance(torch.tensor(tokens, dtype=torch.long))
        for sequence, token, entry in zip(self._active, tokens, entries):
            if sequence.finished:  # its sampling failed just now
                continue
            if sequence.handle.cancelled:
                self._cancel(sequence)
            else:
                sequence.accept(token, entry)
        keep = [row for row, sequence in enumerate(self._active) if not sequence.finished]
        self._batch.keep_rows(keep)
        self._active = [self._active[row] for row in keep]
