"""Log-probabilities for the OpenVINO engine: teacher-forced forward passes on the same IR as the pipeline.

OpenVINO GenAI's ContinuousBatchingPipeline returns only the chosen token's logprob (no alternatives), after its
own sampling transforms, and its `echo` reads prompt logprobs only for the part of a prompt not already in the prefix
cache. So a request that asks for logprobs is also run through the exported model itself (the stateful IR, its KV
cache in an infer request of its own), which gives the full distribution at every position: the prompt's (echo) in
chunks, then one token at a time as the pipeline generates them. It is compiled with f32 activations and KV cache,
so a score does not depend on what else runs beside it (the pipeline's bf16 does) and stays close to the fp32 HF
model: only the int8 weights differ.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from llmchat.worker.engines.base import GenerationRequest, TokenLogprob
from llmchat.worker.engines.logprobs import first_prompt_token, scored_tokens

MODEL_XML = "openvino_model.xml"
PROMPT_CHUNK_TOKENS = 256  # prompt positions one scoring pass reads: bounds its logits to chunk × vocab floats


class OpenVINOScorer:
    """The exported model compiled once more for scoring, on first use (most workers never score)."""

    def __init__(self, folder: Path, threads: int):
        self.folder = folder
        self.threads = threads
        self._compiled = None
        self._lock = threading.Lock()

    def _model(self):
        with self._lock:
            if self._compiled is None:
                import openvino

                config = {
                    "INFERENCE_NUM_THREADS": self.threads,
                    "INFERENCE_PRECISION_HINT": "f32",
                    "KV_CACHE_PRECISION": "f32",
                }
                self._compiled = openvino.Core().compile_model(str(self.folder / MODEL_XML), "CPU", config)
            return self._compiled

    def start(self, request: GenerationRequest, tokenizer) -> tuple[Scoring, list[TokenLogprob] | None]:
        """A request's scoring state after reading its prompt, and the prompt's entries when it asks for echo."""
        scoring = Scoring(self._model().create_infer_request(), tokenizer, request.logprobs or 0)
        entries = scoring.read_prompt(request.prompt_ids, keep=request.echo)
        return scoring, entries


class Scoring:
    """One request's teacher-forced pass: its own KV cache, and the distribution of the token that comes next."""

    def __init__(self, infer_request, tokenizer, top_n: int):
        self._request = infer_request
        self._request.reset_state()
        self._tokenizer = tokenizer
        self._top_n = top_n
        self._length = 0
        self._next: torch.Tensor | None = None  # (1, vocab): the distribution the next token is drawn from

    def _forward(self, ids: list[int]) -> torch.Tensor:
        """Logits (len(ids), vocab) of these tokens, read after everything before them."""
        start, self._length = self._length, self._length + len(ids)
        outputs = self._request.infer(
            {
                "input_ids": np.array([ids], dtype=np.int64),
                "attention_mask": np.ones((1, self._length), dtype=np.int64),
                "position_ids": np.arange(start, self._length, dtype=np.int64)[None],
                "beam_idx": np.zeros(1, dtype=np.int32),
            }
        )
        return torch.from_numpy(np.array(outputs["logits"][0], dtype=np.float32))

    def _chunks(self, ids: list[int]) -> Iterator[tuple[int, torch.Tensor]]:
        for start in range(0, len(ids), PROMPT_CHUNK_TOKENS):
            yield start, self._forward(ids[start : start + PROMPT_CHUNK_TOKENS])

    def read_prompt(self, prompt_ids: list[int], keep: bool) -> list[TokenLogprob] | None:
        """Read the prompt; with `keep`, every prompt token's entry (the first has no logprob)."""
        entries = [first_prompt_token(self._tokenizer, prompt_ids[0])] if keep else None
        for start, logits in self._chunks(prompt_ids):
            if entries is not None:
                # the rows that predict this chunk's tokens: the previous chunk's last row, then all but its own last
                rows = logits[:-1] if start == 0 else torch.cat([self._next, logits[:-1]])
                scored = prompt_ids[start + 1 if start == 0 else start : start + len(logits)]
                entries.extend(scored_tokens(self._tokenizer, rows, scored, self._top_n))
            self._next = logits[-1:]
        return entries

    def entry(self, token_id: int) -> TokenLogprob:
        """The entry of the token the pipeline chose next."""
        return scored_tokens(self._tokenizer, self._next, [token_id], self._top_n)[0]

    def advance(self, token_id: int) -> None:
        """Read the chosen token, so the following one can be scored."""
        self._next = self._forward([token_id])
