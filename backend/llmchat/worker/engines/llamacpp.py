"""The llama.cpp engine: a GGUF served by llama.cpp's own `llama-server` (llamacpp_process.py), one child per model.

On this kind of CPU llama.cpp's Q4_0 kernels decode one stream faster than OpenVINO reads the same file (README,
"Memory and speed"), so a GGUF may name `engine: llama.cpp`. llmchat keeps what is the same on every engine: the HF
tokenizer and chat template (the prompt goes to llama-server as the token ids the worker made), the bounded queue,
usage counts and the OpenAI shapes. llama-server does the batching (its slots), the KV cache with prompt caching,
sampling, EOS and stop strings (cut before them, with the same hold-back as the other engines), over its native
streamed /completion endpoint: its text is what the reply sends, its token count the usage's.

Each request is one HTTP stream on a thread of the engine's pool (as many threads as llama-server has slots);
cancelling closes the stream, and llama-server frees the slot when it sees the connection gone. Token scores are not
offered (`can_score` is False, as for OpenVINO on a .gguf).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from llmchat.worker.engines.base import (
    Delta,
    EngineStats,
    Failed,
    Finished,
    GenerationHandle,
    GenerationRequest,
    QueueFull,
)
from llmchat.worker.engines.llamacpp_process import LlamaServer
from llmchat.worker.reply import guarded

log = logging.getLogger("llmchat.worker")
STOP_REASONS = {"limit": "length"}  # llama-server's stop_type; eos and word (a stop string) are "stop"
CONNECT_TIMEOUT_S = 10.0
SEED_BITS = 31  # llama-server reads the seed as a 32-bit unsigned value where -1 means random


def completion_payload(request: GenerationRequest, context_length: int) -> dict:
    """llama-server's /completion body for one request, with the other engines' sampling semantics: top_p alone
    cuts the distribution (llama-server's top_k 40 and min_p 0.05 are turned off) and repetition_penalty looks at
    the whole sequence, as in transformers. A greedy request keeps one candidate (top_k 1, the same argmax): with top_k
    off llama-server sorts the whole vocabulary for every token, ~0.65 ms with 49152 entries, 2-3 % of a 1B model's
    one-stream speed (bench/results: tiny shape 850 -> 1950 tok/s, 1B 33.2 -> 34.0)."""
    params = request.sampling
    return {
        "prompt": list(request.prompt_ids),
        "n_predict": request.max_tokens,
        "stop": list(request.stop),
        "ignore_eos": request.ignore_eos,
        "temperature": 0.0 if params.greedy else params.temperature,
        "top_p": params.top_p,
        "top_k": 1 if params.greedy else 0,
        "min_p": 0.0,
        "repeat_penalty": params.repetition_penalty,
        "repeat_last_n": context_length,  # the whole sequence (llama-server refuses -1)
        "seed": params.seed % 2**SEED_BITS if params.seed is not None else random.getrandbits(SEED_BITS),
        "cache_prompt": True,
        "stream": True,
    }


class _Stream:
    """One request's answer as it streams: text goes to the sink as it comes; one Finished or Failed ends it."""

    def __init__(self, request: GenerationRequest, sink, handle: GenerationHandle):
        self.prompt_tokens = len(request.prompt_ids)
        self.sink = guarded(sink, handle)
        self.handle = handle
        self.generated = 0
        self.finished = False

    def chunk(self, data: dict) -> None:
        self.generated = int(data.get("tokens_predicted", self.generated))
        if data.get("content"):
            self.sink(Delta(data["content"]))
        if data.get("stop"):
            self.finish(STOP_REASONS.get(data.get("stop_type", ""), "stop"))

    def finish(self, reason: str) -> None:
        if not self.finished:
            self.finished = True
            self.sink(Finished(reason, self.prompt_tokens, self.generated))

    def fail(self, message: str) -> None:
        if not self.finished:
            self.finished = True
            self.sink(Failed(message))


class LlamaCppEngine:
    kind = "llama.cpp"
    device_type = "cpu"
    # the server refuses logprobs and echo with a 400: llama-server cannot score a prompt, and the probabilities it
    # streams (n_probs) leave out the tokens it held back for an incomplete UTF-8 character (one entry for two tokens)
    can_score = False

    def __init__(
        self,
        name: str,
        server: LlamaServer,
        tokenizer,
        context_length: int,
        *,
        max_batch_size: int,
        max_queue: int,
    ):
        self.name = name
        self.server = server
        self.tokenizer = tokenizer
        self.encode_lock = threading.Lock()
        self.context_length = context_length
        self.max_batch_size = max_batch_size  # llama-server's --parallel: one thread per slot here
        self.max_queue = max_queue
        self.adapters: set[str] = set()
        self.stats = EngineStats()
        self._lock = threading.Lock()  # guards the counts below and stats
        self._waiting = 0
        self._running = 0
        self._closed = False
        self._http = httpx.Client(
            base_url=server.url,
            timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S),  # a long prompt may take minutes to read
            limits=httpx.Limits(max_connections=max_batch_size + 1),
        )
        self._threads = ThreadPoolExecutor(max_batch_size, thread_name_prefix=f"llama.cpp-{name}")

    @property
    def queue_depth(self) -> int:
        return self._waiting

    @property
    def active_count(self) -> int:
        return self._running

    def submit(self, request: GenerationRequest, sink, handle: GenerationHandle | None = None) -> GenerationHandle:
        handle = handle or GenerationHandle()
        with self._lock:
            if self._waiting >= self.max_queue:
                raise QueueFull(f"{self._waiting} requests are waiting for model {self.name}")
            self._waiting += 1
        self._threads.submit(self._serve, request, _Stream(request, sink, handle))
        return handle

    def _serve(self, request: GenerationRequest, stream: _Stream) -> None:
        """On a pool thread: one request from llama-server's first byte to its last."""
        with self._lock:
            self._waiting -= 1
            self._running += 1
            self.stats.max_batch_seen = max(self.stats.max_batch_seen, self._running)
        try:
            if self._closed:
                stream.fail("the worker is shutting down")
            elif stream.handle.cancelled:
                self._count_cancelled()
                stream.finish("cancelled")
            elif request.max_tokens == 0:  # nothing to generate (a prompt at the edge of the context)
                stream.finish("length")
            else:
                self._generate(request, stream)
        except httpx.HTTPError as exc:
            log.warning("llama-server of %s: %s", self.name, exc)
            stream.fail(self._failure())
        except Exception:  # a request that fails fails alone, never the engine
            log.exception("llama.cpp request failed on %s", self.name)
            stream.fail("generation failed")
        finally:
            with self._lock:
                self._running -= 1
                self.stats.tokens_generated += stream.generated

    def _generate(self, request: GenerationRequest, stream: _Stream) -> None:
        with self._http.stream(
            "POST", "/completion", json=completion_payload(request, self.context_length)
        ) as response:
            stream.handle.admitted()  # llama-server has it: a free slot takes it at once (others wait in its queue)
            with self._lock:
                self.stats.prefills += 1
            if response.status_code != 200:
                response.read()
                log.warning(
                    "llama-server of %s refused a request: %s %s", self.name, response.status_code, response.text
                )
                stream.fail(f"generation failed: llama-server answered {response.status_code}")
                return
            for line in response.iter_lines():
                if stream.handle.cancelled:  # leaving the block closes the connection: llama-server frees the slot
                    self._count_cancelled()
                    stream.finish("cancelled")
                    return
                if line.startswith("data: "):
                    stream.chunk(json.loads(line[len("data: ") :]))
                    if stream.finished:
                        return
        stream.fail(self._failure())  # the stream ended without llama-server's last chunk

    def _count_cancelled(self) -> None:
        with self._lock:
            self.stats.cancelled += 1

    def _failure(self) -> str:
        if self._closed:
            return "the worker is shutting down"
        if not self.server.alive():
            log.error("llama-server of %s died:\n%s", self.name, self.server.log_tail())
            return "generation failed: llama-server exited"
        return "generation failed: llama-server closed the stream"

    def close(self) -> None:
        """Stop the child (requests in flight fail as their streams break), then the threads."""
        self._closed = True
        self.server.stop()
        self._threads.shutdown(wait=True, cancel_futures=False)
        self._http.close()
