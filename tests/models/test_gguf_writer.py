"""backend/llmchat/models/gguf_writer.py writes GGUFs that transformers reads back as the same model and tokenizer."""

from __future__ import annotations

import pytest

from llmchat.models.gguf_writer import write_llama_gguf
from llmchat.models.loading import load_pretrained

TEXT = "Hello! Who are you? Café 日本語"


@pytest.fixture(scope="module")
def reference(tiny_model_path):
    return load_pretrained(tiny_model_path)


@pytest.mark.parametrize(("quant", "tolerance"), [("F32", 1e-5), ("F16", 0.05), ("Q8_0", 0.5)])
def test_round_trip_gives_the_same_logits(reference, tiny_model_path, tmp_path, quant, tolerance):
    import torch

    model, tokenizer = reference
    gguf_model, gguf_tokenizer = load_pretrained(write_llama_gguf(tiny_model_path, tmp_path / "m.gguf", quant=quant))
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    assert gguf_tokenizer(TEXT)["input_ids"] == ids[0].tolist()
    assert gguf_tokenizer.decode(ids[0]) == TEXT
    assert gguf_tokenizer.eos_token == tokenizer.eos_token
    assert gguf_tokenizer.chat_template == tokenizer.chat_template
    chat = tokenizer.apply_chat_template([{"role": "user", "content": TEXT}], tokenize=False)
    assert gguf_tokenizer(chat)["input_ids"] == tokenizer(chat)["input_ids"]  # the markers are one token each
    with torch.no_grad():
        expected, got = model(ids).logits, gguf_model(ids).logits
    assert (expected - got).abs().max().item() < tolerance
    assert torch.equal(expected.argmax(-1), got.argmax(-1))


def test_unknown_quant_is_refused(tiny_model_path, tmp_path):
    with pytest.raises(ValueError, match="quant must be one of"):
        write_llama_gguf(tiny_model_path, tmp_path / "m.gguf", quant="Q4_K")
