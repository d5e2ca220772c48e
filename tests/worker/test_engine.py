"""The continuous-batching engine, in process, on the tiny model: batched greedy output equals single greedy output."""

from __future__ import annotations

import copy
import queue
import threading
import time

import pytest
import torch

from llmchat.worker.engines.base import Failed, Finished, GenerationRequest, SamplingParams
from llmchat.worker.engines.transformers.engine import Engine, QueueFull
from tests.worker.helpers import GREEDY, collect, greedy_request, run_alone, submit_all

PROMPTS = [
    "Hello there",
    "The quick brown fox jumps over the lazy",
    "one",
    "Paris is the capital of France. Berlin",
    "Caf\u00e9 \u65e5\u672c",
    "### Instruction:\nSay hello.\n\n### Response:\n",
]


@pytest.fixture(scope="module")
def tiny(tiny_model_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_path), dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(str(tiny_model_path))


@pytest.fixture
def engine(tiny):
    model, tokenizer = tiny
    engine = Engine("tiny", model, tokenizer, context_length=512, max_batch_size=8, max_queue=8)
    yield engine
    engine.close()


def hf_greedy(model, tokenizer, prompt: str, max_tokens: int) -> str:
    ids = tokenizer(prompt, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=max_tokens, min_new_tokens=max_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)


def test_single_greedy_matches_hf_generate(engine, tiny):
    model, tokenizer = tiny
    text, finished, _ = run_alone(engine, greedy_request(tokenizer, PROMPTS[1], 24))
    assert finished == Finished("length", len(tokenizer(PROMPTS[1])["input_ids"]), 24)
    assert text == hf_greedy(model, tokenizer, PROMPTS[1], 24)


def test_batched_greedy_equals_single_greedy_with_joins_and_leaves(engine, tiny):
    """Different prompt lengths and max_tokens: rows join late (left-padded merge) and leave early (cache cut)."""
    _, tokenizer = tiny
    requests = [greedy_request(tokenizer, prompt, 8 + 7 * i) for i, prompt in enumerate(PROMPTS)]
    alone = [run_alone(engine, request)[0] for request in requests]
    first = submit_all(engine, requests[:3])
    collect(first[0])  # the shortest has finished (its row was removed) before the rest join
    later = submit_all(engine, requests[3:])
    together = [collect(inbox)[0] for inbox in [*first[1:], *later]]
    assert together == alone[1:]
    assert engine.stats.max_batch_seen >= 3


def test_eos_ends_generation_unless_ignored(tiny):
    model, tokenizer = tiny
    ids = tokenizer(PROMPTS[0], return_tensors="pt")
    greedy_ids = model.generate(**ids, max_new_tokens=20, min_new_tokens=20, do_sample=False)[
        0, ids["input_ids"].shape[1] :
    ]
    eos = int(greedy_ids[5])
    first = greedy_ids.tolist().index(eos)
    engine = Engine("tiny-eos", model, tokenizer, context_length=512)
    engine.eos_ids = frozenset({eos})  # as if the model's EOS were the token greedy decoding picks 6th
    try:
        plain = greedy_request(tokenizer, PROMPTS[0], 20, ignore_eos=False)
        _, finished, _ = run_alone(engine, plain)
        assert finished.reason == "stop" and finished.completion_tokens == first + 1
        _, finished, _ = run_alone(engine, greedy_request(tokenizer, PROMPTS[0], 20, ignore_eos=True))
        assert finished.reason == "length" and finished.completion_tokens == 20
    finally:
        engine.close()


def test_stop_string_ends_generation_when_it_appears(engine, tiny):
    _, tokenizer = tiny
    full, _, _ = run_alone(engine, greedy_request(tokenizer, PROMPTS[0], 40))
    stop = full[12:15]
    assert stop and stop not in full[:12]
    text, finished, pieces = run_alone(engine, greedy_request(tokenizer, PROMPTS[0], 40, stop=(stop,)))
    assert text == full[: full.index(stop)]
    assert finished.reason == "stop"
    assert finished.completion_tokens < 40  # it stopped in the loop, not after generating everything
    assert all(stop not in piece for piece in pieces)


def test_sampling_with_seed_is_reproducible(engine, tiny):
    _, tokenizer = tiny
    ids = tokenizer(PROMPTS[2])["input_ids"]

    def sampled(seed):
        params = SamplingParams(temperature=1.0, top_p=0.9, repetition_penalty=1.2, seed=seed)
        return run_alone(engine, GenerationRequest(ids, 20, params, ignore_eos=True))[0]

    assert sampled(7) == sampled(7)
    assert sampled(7) != sampled(8)


def test_cancel_leaves_the_batch(engine, tiny):
    _, tokenizer = tiny
    inbox: queue.Queue = queue.Queue()
    handle = engine.submit(greedy_request(tokenizer, PROMPTS[0], 500), inbox.put)
    inbox.get(timeout=30)
    handle.cancel()
    _, finished, _ = collect(inbox)
    assert finished.reason == "cancelled" and finished.completion_tokens < 500
    assert engine.stats.cancelled == 1
    deadline = time.monotonic() + 10
    while engine.active_count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.active_count == 0


def test_queue_full_raises(tiny):
    model, tokenizer = tiny
    engine = Engine("tiny-small", model, tokenizer, context_length=512, max_batch_size=1, max_queue=1)
    try:
        handles = [engine.submit(greedy_request(tokenizer, "one", 300), lambda event: None)]
        with pytest.raises(QueueFull):
            for _ in range(3):  # one runs, one waits, the next is refused
                handles.append(engine.submit(greedy_request(tokenizer, "one", 300), lambda event: None))
    finally:
        for handle in handles:
            handle.cancel()
        engine.close()


def test_adapters_share_the_base_in_one_batch(tiny, tiny_lora_paths):
    _, tokenizer = tiny
    model = copy.deepcopy(tiny[0])  # peft changes the modules it adapts: keep the shared fixture clean
    engine = Engine("tiny-lora", model, tokenizer, context_length=512)
    try:
        for name, adapter in zip(("lora-a", "lora-b"), tiny_lora_paths):
            assert engine.ensure_adapter(name, adapter).result(60) is True
        assert engine.ensure_adapter("lora-a", tiny_lora_paths[0]).result(60) is False  # already there: no reload
        requests = [greedy_request(tokenizer, PROMPTS[1], 16, adapter=name) for name in (None, "lora-a", "lora-b")]
        alone = [run_alone(engine, request)[0] for request in requests]
        together = [collect(inbox)[0] for inbox in submit_all(engine, requests)]
        assert together == alone
        assert len(set(alone)) == 3  # base, a and b differ
        assert engine.stats.adapter_loads == 2
    finally:
        engine.close()


def test_one_rows_failed_sampling_does_not_fail_the_batch(engine, tiny):
    """repetition_penalty=1e-300 makes a seen token's score infinite, so sampling that row raises (at prefill or in
    a later step, depending on the prompt). It used to fail every row of that decode step; now only its own."""
    _, tokenizer = tiny
    inbox = submit_all(engine, [greedy_request(tokenizer, PROMPTS[1], 60)])[0]
    bad_sampling = SamplingParams(temperature=1.0, repetition_penalty=1e-300, seed=0)
    prompts = ["Hello there", "one", "!", "P", "Paris", "fox"]  # the engine queues at most 8
    bad = submit_all(
        engine,
        [
            GenerationRequest(
                prompt_ids=tokenizer(p)["input_ids"], max_tokens=20, sampling=bad_sampling, ignore_eos=True
            )
            for p in prompts
        ],
    )
    endings = [collect(box)[1] for box in bad]
    assert all(isinstance(ending, (Finished, Failed)) for ending in endings)
    assert any(isinstance(ending, Failed) for ending in endings)
    text, finished, _ = collect(inbox)
    assert finished == Finished("length", len(tokenizer(PROMPTS[1])["input_ids"]), 60)
    assert text == run_alone(engine, greedy_request(tokenizer, PROMPTS[1], 60))[0]


def submit_while_paused(engine, requests) -> list[queue.Queue]:
    """Submit while the engine thread waits in a task, so every request is queued before the next admission."""
    gate = threading.Event()
    paused = engine.call(lambda: gate.wait(30))
    try:
        return submit_all(engine, requests)
    finally:
        gate.set()
        paused.result(30)


def test_arrivals_share_prefill_passes_and_match_their_single_output(engine, tiny):
    _, tokenizer = tiny
    requests = [greedy_request(tokenizer, prompt, 12) for prompt in PROMPTS]
    alone = [run_alone(engine, request)[0] for request in requests]
    passes_before = engine.stats.prefill_passes
    together = [collect(inbox)[0] for inbox in submit_while_paused(engine, requests)]
    assert together == alone
    assert engine.stats.prefill_passes - passes_before < len(requests)


def test_a_seed_gives_the_same_text_alone_and_in_a_batch(engine, tiny):
    _, tokenizer = tiny

    def request(prompt: str, seed: int, **sampling) -> GenerationRequest:
        params = SamplingParams(
            **{"temperature": 0.8, "top_p": 0.9, "repetition_penalty": 1.1, "seed": seed, **sampling}
        )
        return GenerationRequest(tokenizer(prompt)["input_ids"], 24, params, ignore_eos=True)

    mine = request(PROMPTS[3], 11)
    alone = run_alone(engine, mine)[0]
    others = [
        request(PROMPTS[0], 1),
        request(PROMPTS[1], 2, top_p=1.0, repetition_penalty=1.0),
        greedy_request(tokenizer, PROMPTS[4], 30),
    ]
    inboxes = submit_while_paused(engine, [others[0], mine, *others[1:]])
    results = [collect(inbox) for inbox in inboxes]
    assert results[1][0] == alone
    assert all(isinstance(finished, Finished) for _, finished, _ in results)


def test_a_prefill_pass_that_fails_is_retried_row_by_row(tiny, caplog):
    """A request the model rejects (here: one holding a token the wrapped forward refuses) fails alone; the
    requests that arrived with it and shared its prefill pass are prefilled again on their own and finish."""
    model, tokenizer = tiny
    engine = Engine("tiny-bad-prefill", model, tokenizer, context_length=512)
    poison = tokenizer("!")["input_ids"][-1]
    forward = engine._forward

    def refusing(sequences, **inputs):
        if inputs["input_ids"].shape[1] > 1 and (inputs["input_ids"] == poison).any():  # prefill passes only
            raise RuntimeError("this prompt breaks the model")
        return forward(sequences, **inputs)

    engine._forward = refusing
    try:
        good = [greedy_request(tokenizer, prompt, 6) for prompt in PROMPTS[:3]]
        bad = GenerationRequest(tokenizer("Hello!")["input_ids"], 6, GREEDY, ignore_eos=True)
        assert poison not in [token for request in good for token in request.prompt_ids] and len(bad.prompt_ids) > 1
        results = [collect(inbox) for inbox in submit_while_paused(engine, [good[0], bad, *good[1:]])]
        # the client is told it failed, never why (an exception text can tell internals): that is in the log
        assert isinstance(results[1][1], Failed) and "breaks the model" not in results[1][1].message
        assert "this prompt breaks the model" in caplog.text
        assert [finished.reason for _, finished, _ in results[:1] + results[2:]] == ["length"] * 3
    finally:
        engine.close()


@pytest.mark.parametrize("budget", [1, 2048])
def test_while_others_stream_arrivals_are_admitted_within_a_token_budget(tiny, budget):
    """Short turns arriving together while a reply streams: with a budget of 2048 prompt tokens they are
    prefilled in the passes their lengths need (as if nothing were streaming); with a budget of one token each
    prompt still goes, one a step."""
    from llmchat.worker.engines.transformers.prefill import prefill_groups

    model, tokenizer = tiny
    engine = Engine("tiny", model, tokenizer, context_length=512, max_batch_size=8, max_prefill_tokens_per_step=budget)
    try:
        streaming = submit_all(engine, [greedy_request(tokenizer, PROMPTS[0], 400)])[0]
        streaming.get(timeout=30)  # its first piece: it is in the batch and decoding
        requests = [greedy_request(tokenizer, prompt, 4) for prompt in PROMPTS]
        passes_before = engine.stats.prefill_passes
        answers = [collect(inbox) for inbox in submit_while_paused(engine, requests)]
        assert all(isinstance(ending, Finished) for _, ending, _ in answers)
        passes = engine.stats.prefill_passes - passes_before
        lengths = [len(request.prompt_ids) for request in requests]
        assert passes == (len(prefill_groups(lengths)) if budget == 2048 else len(requests))
        assert isinstance(collect(streaming)[1], Finished)
    finally:
        engine.close()


def test_the_engine_marks_the_handle_it_is_given_when_it_takes_the_request(tiny):
    """The worker's queue-time metric reads `admitted_at`: set when the engine takes the request into its batch, so
    a request queued behind a full batch is marked only once a slot frees."""
    from llmchat.worker.engines.base import GenerationHandle

    model, tokenizer = tiny
    engine = Engine("tiny", model, tokenizer, context_length=512, max_batch_size=1, max_queue=8)
    try:
        first, second = GenerationHandle(), GenerationHandle()
        finished_at: list[float] = []
        inboxes = []
        for handle in (first, second):
            inbox: queue.Queue = queue.Queue()

            def sink(event, inbox=inbox):
                if isinstance(event, Finished) and not finished_at:
                    finished_at.append(time.perf_counter())
                inbox.put(event)

            assert engine.submit(greedy_request(tokenizer, PROMPTS[0], 40), sink, handle) is handle
            inboxes.append(inbox)
        for inbox in inboxes:
            collect(inbox)
        assert first.admitted_at is not None and second.admitted_at is not None
        assert first.admitted_at < finished_at[0] <= second.admitted_at  # the second waited for the first's slot
    finally:
        engine.close()
