"""On both engines: a seed reproduces a sampled reply whatever else runs beside it, and a reply cut off at
max_tokens can be continued in the same assistant turn (vLLM's continue_final_message)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.worker.helpers import same_reply


def sampled(client, seed: int | None, prompt: str = "The quick brown fox", **fields) -> str:
    body = {
        "model": "tiny-base",
        "prompt": prompt,
        "max_tokens": 24,
        "temperature": 1.0,
        "top_p": 0.9,
        "ignore_eos": True,
        **fields,
    }
    if seed is not None:
        body["seed"] = seed
    response = client.post("/v1/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["text"]


def test_same_seed_same_text_even_in_a_busy_batch(client, worker, engine):
    alone = sampled(client, 1234)
    assert sampled(client, 1234) == alone
    with ThreadPoolExecutor(6) as pool:  # the same request among others, sampled and greedy
        futures = [pool.submit(sampled, client, 1234)] + [
            pool.submit(sampled, client, seed, "Paris is") for seed in (1, 2, None, 5, 6)
        ]
        assert same_reply(futures[0].result(), alone, engine)
        others = [future.result() for future in futures[1:]]
    assert len(set(others[:2])) == 2  # different seeds, different samples


def test_different_seeds_and_no_seed_differ(client):
    replies = {sampled(client, seed) for seed in (1, 2, 3)}
    assert len(replies) == 3
    assert sampled(client, None) != sampled(client, None)


def test_repetition_penalty_changes_a_greedy_reply(client):
    plain = sampled(client, None, temperature=0, prompt="one two three four five six")
    penalised = sampled(client, None, temperature=0, prompt="one two three four five six", repetition_penalty=1.8)
    assert plain != penalised


def chat(client, messages: list[dict], **fields) -> dict:
    body = {"model": "tiny-chat", "messages": messages, "max_tokens": 8, "temperature": 0, "ignore_eos": True, **fields}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_continue_final_message_goes_on_in_the_same_turn(client):
    question = [{"role": "user", "content": "hi"}]
    whole = chat(client, question, max_tokens=16)["choices"][0]["message"]["content"]
    first = chat(client, question, max_tokens=8)
    assert first["choices"][0]["finish_reason"] == "length"
    start = first["choices"][0]["message"]["content"]
    assert whole.startswith(start)
    rest = chat(
        client,
        [*question, {"role": "assistant", "content": start}],
        max_tokens=8,
        add_generation_prompt=False,
        continue_final_message=True,
    )
    # the continued prompt is exactly the first prompt plus the partial reply: the assistant turn is not closed
    # (no <|im_end|>) and no new one is opened
    rendered = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" + start
    count = client.post("/tokenize", json={"model": "tiny-chat", "prompt": rendered}).json()["count"]
    assert rest["usage"]["prompt_tokens"] == count
    assert rest["choices"][0]["message"]["content"] and rest["usage"]["completion_tokens"] == 8


def test_continue_needs_an_assistant_message_last(client):
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "tiny-chat",
            "messages": [{"role": "user", "content": "hi"}],
            "continue_final_message": True,
            "add_generation_prompt": False,
        },
    )
    assert response.status_code == 400
    assert "assistant" in response.json()["error"]["message"]
