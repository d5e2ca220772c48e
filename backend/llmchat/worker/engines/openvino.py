"""The OpenVINO engine: OpenVINO GenAI's ContinuousBatchingPipeline on an export (llmchat.models.openvino_export) or
on a .gguf file read as it is (GenAI's GGUF reader; llmchat.models.gguf_file).

OpenVINO does the batching, the paged KV cache with prefix caching (a follow-up turn does not read the history
again) and the sampling (temperature, top_p, repetition_penalty, per-request seed). llmchat keeps the rest, shared
with the transformers engine: the HF tokenizer (so /tokenize and chat templates agree across engines), text out of
token ids, stop strings with hold-back, usage counts, the bounded queue and cancellation (worker/reply.py).
Logprobs come from a teacher-forced pass on the same export beside the pipeline (openvino_scoring.py).

Every OpenVINO engine of a worker is stepped by one scheduler thread, one pipeline step at a time: on a CPU two
pipelines stepping at once would only fight over the same cores.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from dataclasses import dataclass
from pathlib import Path

from llmchat.worker.engines.base import (
    EngineStats,
    GenerationHandle,
    GenerationRequest,
    QueueFull,
    private_tokenizer_copy,
)
from llmchat.worker.engines.openvino_scoring import OpenVINOScorer, Scoring
from llmchat.worker.reply import Reply

log = logging.getLogger("llmchat.worker")
PREFILL_CHUNK_TOKENS = 1024  # prompt tokens one step may read; longer prompts are split over steps
IDLE_WAIT_S = 0.5


@dataclass
class _Running:
    reply: Reply
    ov_handle: object  # openvino_genai GenerationHandle
    handle: GenerationHandle  # ours: the client's cancel
    scoring: Scoring | None = None  # the teacher-forced pass of a request that asked for logprobs


def _generation_config(request: GenerationRequest, eos_ids: frozenset[int]):
    import openvino_genai

    params = request.sampling
    config = openvino_genai.GenerationConfig()
    config.max_new_tokens = request.max_tokens
    config.ignore_eos = request.ignore_eos
    config.stop_token_ids = set() if request.ignore_eos else set(eos_ids)
    config.repetition_penalty = params.repetition_penalty
    if params.greedy:
        config.do_sample = False
    else:
        config.do_sample = True
        config.temperature = params.temperature
        config.top_p = params.top_p
        config.top_k = 0  # off: top_p alone decides, as in the transformers engine
        config.rng_seed = params.seed if params.seed is not None else random.getrandbits(63)
    return config


def _cpu_properties(threads: int, kv_cache_precision: str) -> dict:
    """The CPU plugin's settings. The plugin's own defaults otherwise hold: the LATENCY hint, bf16 activations where
    the CPU has them, a u8 KV cache (half of bf16's memory, a little faster to read)."""
    properties: dict = {"INFERENCE_NUM_THREADS": threads}
    if kv_cache_precision != "auto":
        import openvino

        types = {"u8": openvino.Type.u8, "bf16": openvino.Type.bf16, "f16": openvino.Type.f16, "f32": openvino.Type.f32}
        properties["KV_CACHE_PRECISION"] = types[kv_cache_precision]
    return properties


class OpenVINOEngine:
    kind = "openvino"
    device_type = "cpu"

    def __init__(
        self,
        name: str,
        model_path: Path,
        tokenizer,
        context_length: int,
        eos_ids: frozenset[int],
        *,
        scheduler: OpenVINOScheduler,
        threads: int,
        kv_cache_precision: str = "auto",
        max_batch_size: int = 16,
        max_queue: int = 64,
    ):
        import openvino_genai

        self.name = name
        self.model_path = model_path  # an export folder or a .gguf file
        self.tokenizer = tokenizer
        self.encode_lock = threading.Lock()
        self.context_length = context_length
        self.eos_ids = eos_ids
        self.max_batch_size = max_batch_size
        self.max_queue = max_queue
        self.adapters: set[str] = set()
        self.stats = EngineStats()
        config = openvino_genai.SchedulerConfig()
        config.max_num_seqs = max_batch_size
        config.max_num_batched_tokens = max(PREFILL_CHUNK_TOKENS, max_batch_size)
        config.dynamic_split_fuse = True
        config.enable_prefix_caching = True
        config.cache_size = 0  # with num_kv_blocks 0: the KV cache grows as the sequences need it
        self._pipeline = openvino_genai.ContinuousBatchingPipeline(
            str(model_path), config, "CPU", _cpu_properties(threads, kv_cache_precision)
        )
        # a separate HF tokenizer copy for turning ids into text on the scheduler thread: a fast tokenizer shared
        # with the thread that encodes prompts can fail with "Already borrowed"
        self._decode_tokenizer = private_tokenizer_copy(tokenizer)
        self._waiting: collections.deque[tuple[GenerationRequest, Reply, GenerationHandle]] = collections.deque()
        self._running: dict[int, _Running] = {}
        self._next_id = 0
        self._lock = threading.Lock()  # guards _waiting (submit runs on request threads)
        # token scores come from the export's IR compiled a second time (openvino_scoring.py); a .gguf read directly has
        # no IR to compile, so an engine on one cannot score (the server refuses logprobs for it with a 400)
        self._scorer = OpenVINOScorer(model_path, threads) if model_path.is_dir() else None
        self._scheduler = scheduler
        scheduler.add(self)

    # ---- any thread ----

    @property
    def can_score(self) -> bool:
        """Whether requests with logprobs or echo can be answered (not on a .gguf read directly)."""
        return self._scorer is not None

    @property
    def queue_depth(self) -> int:
        return len(self._waiting)

    @property
    def active_count(self) -> int:
        return len(self._running)

    def submit(self, request: GenerationRequest, sink, handle: GenerationHandle | None = None) -> GenerationHandle:
        handle = handle or GenerationHandle()
        reply = Reply(
            request.prompt_ids,
            request.max_tokens,
            request.stop,
            frozenset() if request.ignore_eos else self.eos_ids,
            self._decode_tokenizer,
            sink,
            handle,
        )
        with self._lock:
            if len(self._waiting) >= self.max_queue:
                raise QueueFull(f"{len(self._waiting)} requests are waiting for model {self.name}")
            self._waiting.append((request, reply, handle))
        self._scheduler.wake()
        return handle

    def has_work(self) -> bool:
        return bool(self._waiting or self._running)

    def close(self, timeout: float = 10.0) -> None:
        self._scheduler.remove(self, timeout)

    # ---- the scheduler thread ----

    def step(self) -> None:
        """Admit waiting requests, run one pipeline step, hand out the new tokens, drop finished requests."""
        self._admit()
        if not self._running:
            return
        try:
            self._pipeline.step()
        except Exception:  # a failed step fails its requests, never the worker
            log.exception("OpenVINO step failed on %s", self.name)
            self._fail_all("generation failed")
            return
        self.stats.steps += 1
        for request_id, running in list(self._running.items()):
            self._collect(request_id, running)

    def _admit(self) -> None:
        import numpy as np
        import openvino

        while self._waiting and len(self._running) < self.max_batch_size:
            with self._lock:
                request, reply, handle = self._waiting.popleft()
            if handle.cancelled:
                self.stats.cancelled += 1
                reply.cancel()
                continue
            request_id, self._next_id = self._next_id, self._next_id + 1
            handle.admitted()  # the pipeline's own scheduling after add_request is not observable
            try:
                scoring = self._score_prompt(request, reply)
                if request.max_tokens == 0:  # only the prompt's logprobs were asked for
                    reply.end("length")
                    continue
                ids = openvino.Tensor(np.array([request.prompt_ids], dtype=np.int64))
                ov_handle = self._pipeline.add_request(request_id, ids, _generation_config(request, self.eos_ids))
            except Exception:
                log.exception("OpenVINO could not take a request on %s", self.name)
                reply.fail("generation failed")
                continue
            self._running[request_id] = _Running(reply, ov_handle, handle, scoring)
            self.stats.prefills += 1
            self.stats.max_batch_seen = max(self.stats.max_batch_seen, len(self._running))

    def _score_prompt(self, request: GenerationRequest, reply: Reply) -> Scoring | None:
        """For a request with logprobs: read its prompt in the scoring pass (and send the prompt's, for echo)."""
        if request.logprobs is None and not request.echo:
            return None
        scoring, entries = self._scorer.start(request, self._decode_tokenizer)
        if entries is not None:
            reply.prompt_scored(entries)
        return scoring

    def _collect(self, request_id: int, running: _Running) -> None:
        import openvino_genai

        reply, ov_handle = running.reply, running.ov_handle
        if running.handle.cancelled:
            ov_handle.cancel()
            self.stats.cancelled += 1
            reply.cancel()
        elif ov_handle.can_read():
            for output in ov_handle.read().values():
                for token in output.generated_ids:
                    self.stats.tokens_generated += 1
                    self._accept(running, int(token))
        status = ov_handle.get_status()
        if not reply.finished and status != openvino_genai.GenerationStatus.RUNNING:
            if status == openvino_genai.GenerationStatus.FINISHED:
                reply.end("length" if reply.generated >= reply.max_tokens else "stop")
            else:  # dropped by OpenVINO (out of KV cache, or cancelled by it)
                reply.fail("generation failed: the engine dropped the request")
        if reply.finished:
            if status == openvino_genai.GenerationStatus.RUNNING:
                ov_handle.cancel()  # a stop string ended it: the pipeline need not go on
            del self._running[request_id]

    def _accept(self, running: _Running, token: int) -> None:
        scoring = running.scoring
        try:
            running.reply.accept(token, scoring.entry(token) if scoring else None)
            if scoring and not running.reply.finished:
                scoring.advance(token)
        except Exception:  # a scoring pass that fails fails its request alone
            log.exception("OpenVINO scoring failed on %s", self.name)
            running.reply.fail("generation failed: scoring the tokens failed")

    def _fail_all(self, message: str) -> None:
        for running in self._running.values():
            running.ov_handle.cancel()
            running.reply.fail(message)
        self._running.clear()

    def shut_down(self) -> None:
        """On the scheduler thread, when the engine leaves: every request still here fails."""
        self._fail_all("the worker is shutting down")
        with self._lock:
            waiting, self._waiting = list(self._waiting), collections.deque()
        for _, reply, _ in waiting:
            reply.fail("the worker is shutting down")
        self._pipeline = None  # its weights and KV cache go now, even while the scheduler's last list still holds us


class OpenVINOScheduler:
    """One thread that steps every OpenVINO engine of the worker in turn, and sleeps while none has work."""

    def __init__(self) -> None:
        self._engines: list[OpenVINOEngine] = []
        self._leaving: list[OpenVINOEngine] = []
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="openvino-engines", daemon=True)
        self._thread.start()

    def add(self, engine: OpenVINOEngine) -> None:
        with self._wake:
            self._engines.append(engine)

    def remove(self, engine: OpenVINOEngine, timeout: float) -> None:
        """Take the engine out; returns once the scheduler thread has failed its requests (or after `timeout`)."""
        with self._wake:
            if engine in self._engines:
                self._engines.remove(engine)
                self._leaving.append(engine)
                self._wake.notify_all()
            self._wake.wait_for(lambda: engine not in self._leaving, timeout)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._leaving or any(engine.has_work() for engine in self._engines)):
                    self._wake.wait(IDLE_WAIT_S)
                engines, leaving = list(self._engines), list(self._leaving)
            for engine in leaving:
                engine.shut_down()
                with self._wake:
                    self._leaving.remove(engine)
                    self._wake.notify_all()
            for engine in engines:
                if engine.has_work():
                    engine.step()
