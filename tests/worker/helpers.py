"""Small helpers for the worker tests: run requests through an in-process engine and gather their events."""

from __future__ import annotations

import queue

from llmchat.worker.engines.base import Delta, Failed, Finished, GenerationRequest, SamplingParams

GREEDY = SamplingParams(temperature=0.0)
EVENT_TIMEOUT_S = 60


def greedy_request(tokenizer, prompt: str, max_tokens: int, **fields) -> GenerationRequest:
    fields.setdefault("ignore_eos", True)
    return GenerationRequest(
        prompt_ids=tokenizer(prompt)["input_ids"], max_tokens=max_tokens, sampling=GREEDY, **fields
    )


def submit_all(engine, requests) -> list[queue.Queue]:
    inboxes = []
    for request in requests:
        inbox: queue.Queue = queue.Queue()
        engine.submit(request, inbox.put)
        inboxes.append(inbox)
    return inboxes


def collect(inbox: queue.Queue) -> tuple[str, Finished | Failed, list[str]]:
    """(whole text, the final event, the text pieces in the order they came)."""
    pieces = []
    while True:
        event = inbox.get(timeout=EVENT_TIMEOUT_S)
        if isinstance(event, Delta):
            pieces.append(event.text)
        else:
            return "".join(pieces), event, pieces


def run_alone(engine, request) -> tuple[str, Finished | Failed, list[str]]:
    return collect(submit_all(engine, [request])[0])


SAME_START_CHARS = 16


def same_reply(batched: str, alone: str, engine: str) -> bool:
    """Whether a reply written beside other requests is the one written alone. The transformers engine is exact.
    OpenVINO computes activations in bf16 where the CPU has it, so the company a request keeps changes low bits and
    a greedy (or seeded) reply of a near-random tiny model may fork after a while: it must start the same."""
    if engine == "transformers":
        return batched == alone
    return batched[:SAME_START_CHARS] == alone[:SAME_START_CHARS]


def reference_reply(hf_folder, messages: list[dict], max_tokens: int) -> str:
    """Greedy `generate` of an HF folder's weights on the chat prompt of `messages` (what a GGUF written from the
    folder should answer too, on any engine that reads it exactly)."""
    import torch

    from llmchat.models.loading import load_pretrained

    model, tokenizer = load_pretrained(hf_folder)
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=max_tokens, do_sample=False, eos_token_id=None)
    return tokenizer.decode(out[0][len(ids) :])
