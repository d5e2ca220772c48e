"""Logprobs on a real worker, both engines: the prompt's own (echo, as lm-evaluation-harness asks), the generated
tokens' with their alternatives, in completions and chat, streamed or not; each checked against a direct fp32
transformers computation on the same text."""

from __future__ import annotations

import json

import pytest

from tests.support.tiny_model import EOS, IM_END, IM_START
from tests.worker.test_server_api import stream_events

SPECIAL = {EOS, IM_START, IM_END}
TEXT = "The quick brown fox jumps over the lazy dog. Paris is the capital of France."
# how far the worker's logprobs may be from fp32 transformers on the same tokens. The transformers engine runs the
# same fp32 weights (only the order of float sums differs). OpenVINO scores with f32 activations and KV cache on the
# int8 export, whose per-channel int8 weights move the tiny model's large logits (it is initialised wide so greedy
# choices are not near-ties): measured on these texts and a 480-token one, 0.066 nats on average, 0.27 at the 99th
# percentile, with no drift along the text; so each token within 0.4 and the mean within 0.12.
TOLERANCE = {"transformers": 1e-3, "openvino": 0.4}
MEAN_TOLERANCE = {"transformers": 1e-4, "openvino": 0.12}


@pytest.fixture(scope="module")
def reference(tiny_model_path):
    """The fp32 HF model and tokenizer: logprobs computed directly, without the worker."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_model_path), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_path))

    def logprobs(ids: list[int]) -> list[list[float]]:
        """Row i: the model's log-distribution over the token after ids[: i + 1]."""
        with torch.no_grad():
            return torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), dim=-1).tolist()

    return tokenizer, logprobs


def spells(tokens: list[str], text: str) -> bool:
    """The tokens' texts make up the text, but for special tokens (listed, not in the text, as vLLM does); a token
    holding part of a multi-byte character shows as U+FFFD alone, so such a reply is checked by length only."""
    joined = "".join(token for token in tokens if token not in SPECIAL)
    return joined == text if "\ufffd" not in joined else len(tokens) > 0


def post(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def score(client, prompt, **fields) -> dict:
    body = {"model": "tiny-base", "prompt": prompt, "echo": True, "logprobs": 1, "max_tokens": 0, **fields}
    return post(client, "/v1/completions", body)["choices"][0]


def test_echo_scores_the_prompt_like_fp32_transformers(client, reference, engine):
    tokenizer, direct = reference
    ids = tokenizer(TEXT)["input_ids"]
    choice = score(client, TEXT, logprobs=2)
    logprobs = choice["logprobs"]
    assert choice["text"] == TEXT and choice["finish_reason"] == "length"
    assert len(logprobs["tokens"]) == len(ids) and "".join(logprobs["tokens"]) == TEXT
    assert logprobs["token_logprobs"][0] is None and logprobs["top_logprobs"][0] is None
    assert logprobs["text_offset"] == [
        TEXT.index(token, offset) for token, offset in zip(logprobs["tokens"], logprobs["text_offset"])
    ]
    assert logprobs["text_offset"][0] == 0
    rows = direct(ids)
    errors = []
    for position in range(1, len(ids)):
        expected = rows[position - 1][ids[position]]
        assert logprobs["token_logprobs"][position] == pytest.approx(expected, abs=TOLERANCE[engine])
        errors.append(abs(logprobs["token_logprobs"][position] - expected))
        top = logprobs["top_logprobs"][position]
        assert 2 <= len(top) <= 3  # the token itself and the two most likely
        assert max(top.values()) == pytest.approx(max(rows[position - 1]), abs=TOLERANCE[engine])
    assert sum(errors) / len(errors) <= MEAN_TOLERANCE[engine]


def test_token_id_prompts_as_lm_eval_sends_them(client, reference, engine):
    """lm-evaluation-harness's local-completions: token ids, echo, logprobs 1, max_tokens 1, greedy; it reads
    token_logprobs[ctxlen:-1] and whether each is the most likely token of its position."""
    tokenizer, direct = reference
    context, continuation = tokenizer("Paris is the capital of")["input_ids"], tokenizer(" France.")["input_ids"]
    ids = context + continuation
    choice = score(client, [ids], max_tokens=1, temperature=0)
    logprobs = choice["logprobs"]
    assert len(logprobs["token_logprobs"]) == len(ids) + 1  # the prompt's and the one generated token's
    rows = direct(ids)
    total = sum(logprobs["token_logprobs"][len(context) : -1])
    expected = sum(rows[position - 1][ids[position]] for position in range(len(context), len(ids)))
    assert total == pytest.approx(expected, abs=TOLERANCE[engine] * len(continuation))
    generated = logprobs["token_logprobs"][-1]
    assert generated == pytest.approx(max(logprobs["top_logprobs"][-1].values()))  # greedy: the most likely
    assert generated == pytest.approx(max(rows[-1]), abs=TOLERANCE[engine])


def test_generated_tokens_carry_the_models_own_logprobs_not_the_sampling_ones(client, reference, engine):
    """Sampled at temperature 1.8, the logprobs are still the model's distribution (vLLM's default)."""
    tokenizer, direct = reference
    prompt_ids = tokenizer(TEXT)["input_ids"]
    body = {"model": "tiny-base", "prompt": TEXT, "max_tokens": 6, "temperature": 1.8, "seed": 3, "ignore_eos": True}
    choice = post(client, "/v1/completions", {**body, "logprobs": 3})["choices"][0]
    logprobs = choice["logprobs"]
    generated = tokenizer(choice["text"], add_special_tokens=False)["input_ids"]
    assert spells(logprobs["tokens"], choice["text"])
    assert logprobs["text_offset"][0] == 0
    # top 3 plus the sampled token when it is not among them; the legacy format keys them by text, so partial
    # UTF-8 tokens that all read "\ufffd" collapse into one key (the only way two tokens share a text here)
    assert all(len(top) <= 4 and (len(top) >= 3 or "\ufffd" in top) for top in logprobs["top_logprobs"])
    ids = prompt_ids + generated
    if len(generated) == len(logprobs["tokens"]):  # the text re-encodes to the same tokens (usual)
        rows = direct(ids)
        for step, token in enumerate(generated):
            expected = rows[len(prompt_ids) + step - 1][token]
            assert logprobs["token_logprobs"][step] == pytest.approx(expected, abs=TOLERANCE[engine])


def test_chat_logprobs_streamed_and_whole_agree(client, engine):
    body = {
        "model": "tiny-chat",
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "temperature": 0,
        "ignore_eos": True,
        "logprobs": True,
        "top_logprobs": 2,
    }
    whole = post(client, "/v1/chat/completions", body)
    content = whole["choices"][0]["logprobs"]["content"]
    assert len(content) == whole["usage"]["completion_tokens"] == 8
    assert spells([entry["token"] for entry in content], whole["choices"][0]["message"]["content"])
    for entry in content:
        assert entry["bytes"] == list(entry["token"].encode("utf-8"))
        assert len(entry["top_logprobs"]) == 2
        assert entry["logprob"] == pytest.approx(entry["top_logprobs"][0]["logprob"])  # greedy: the most likely
    chunks = [json.loads(p) for p in stream_events(client, "/v1/chat/completions", {**body, "stream": True})]
    streamed = [e for c in chunks for e in ((c["choices"] or [{}])[0].get("logprobs") or {}).get("content", [])]
    assert [e["token"] for e in streamed] == [e["token"] for e in content]
    tolerance = 1e-5 if engine == "transformers" else 0.05
    assert [e["logprob"] for e in streamed] == pytest.approx([e["logprob"] for e in content], abs=tolerance)


def test_streamed_completion_with_echo_sends_the_prompt_first(client):
    body = {"model": "tiny-base", "prompt": TEXT, "echo": True, "logprobs": 0, "max_tokens": 4, "temperature": 0}
    chunks = [json.loads(p) for p in stream_events(client, "/v1/completions", {**body, "stream": True})]
    first = chunks[0]["choices"][0]
    assert first["text"] == TEXT and first["logprobs"]["token_logprobs"][0] is None
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    offsets = [
        o
        for c in chunks
        if c["choices"] and c["choices"][0]["logprobs"]
        for o in c["choices"][0]["logprobs"]["text_offset"]
    ]
    tokens = [
        t for c in chunks if c["choices"] and c["choices"][0]["logprobs"] for t in c["choices"][0]["logprobs"]["tokens"]
    ]
    assert spells(tokens, text)
    assert offsets == sorted(offsets) and offsets[0] == 0


def test_echo_without_logprobs_returns_the_prompt_and_the_reply(client):
    body = {"model": "tiny-base", "prompt": TEXT, "echo": True, "max_tokens": 3, "temperature": 0, "ignore_eos": True}
    plain = post(client, "/v1/completions", {**body, "echo": False})["choices"][0]
    echoed = post(client, "/v1/completions", body)["choices"][0]
    assert echoed["text"] == TEXT + plain["text"] and echoed["logprobs"] is None


@pytest.mark.parametrize(
    ("path", "fields", "param"),
    [
        ("/v1/completions", {"logprobs": 21}, "logprobs"),
        ("/v1/completions", {"logprobs": True}, "logprobs"),
        ("/v1/completions", {"max_tokens": 0}, "max_tokens"),
        ("/v1/completions", {"prompt": [[1, 99999]]}, "prompt"),
        ("/v1/completions", {"prompt": [[]]}, "prompt"),
        ("/v1/chat/completions", {"top_logprobs": 2}, "top_logprobs"),
        ("/v1/chat/completions", {"logprobs": True, "top_logprobs": 30}, "top_logprobs"),
    ],
)
def test_bad_logprob_requests_are_400s_naming_the_field(client, path, fields, param):
    body = {"model": "tiny-chat", "max_tokens": 2}
    body |= {"messages": [{"role": "user", "content": "hi"}]} if "chat" in path else {"prompt": "hi"}
    response = client.post(path, json={**body, **fields})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert param in (error["param"] or "") or error["message"].startswith(param), error


def test_an_eos_token_keeps_its_logprob_entry_outside_the_text(tiny_model_path):
    """lm-evaluation-harness reads the prompt's logprobs as every entry but the last (the generated token): a reply
    that is only EOS must still have that last entry."""
    from transformers import AutoTokenizer

    from llmchat.worker.engines.base import Delta, Finished, GenerationHandle, TokenLogprob
    from llmchat.worker.reply import Reply

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_path))
    events = []
    eos = tokenizer.eos_token_id
    reply = Reply([5, 6], 1, (), frozenset({eos}), tokenizer, events.append, GenerationHandle())
    reply.accept(eos, TokenLogprob(eos, EOS, -0.5))
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
    (delta,) = [event for event in events if isinstance(event, Delta)]
    assert delta.text == "" and delta.logprobs == (TokenLogprob(eos, EOS, -0.5, in_text=False),)
