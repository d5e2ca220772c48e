"""Labels are -100 exactly on prompt and padding tokens; every target ends with EOS."""

import pytest

from llmchat.prompts import load_alpaca_template
from llmchat.training.encoding import IGNORE_INDEX, PadCollator, encode_example, encode_records

RECORDS = [
    {"instruction": "What is 2 + 3?", "input": "", "output": "5"},
    {"instruction": "Sort these numbers from smallest to largest.", "input": "9, 4, 7", "output": "4, 7, 9"},
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_path))


def test_prompt_masked_target_with_eos(tokenizer):
    template = load_alpaca_template()
    for record in RECORDS:
        encoded = encode_example(tokenizer, template, record, cutoff_len=512)
        prompt = tokenizer(template.render(record["instruction"], record["input"]))["input_ids"]
        target = tokenizer(record["output"], add_special_tokens=False)["input_ids"]
        assert encoded.input_ids == prompt + target + [tokenizer.eos_token_id]
        assert encoded.labels == [IGNORE_INDEX] * len(prompt) + target + [tokenizer.eos_token_id]


def test_train_on_inputs_keeps_prompt_labels(tokenizer):
    encoded = encode_example(tokenizer, load_alpaca_template(), RECORDS[1], cutoff_len=512, train_on_inputs=True)
    assert encoded.labels == encoded.input_ids


def test_cutoff_len_truncates_and_drops_records_with_no_target(tokenizer):
    template = load_alpaca_template()
    encoded = encode_example(tokenizer, template, RECORDS[1], cutoff_len=10)
    assert len(encoded.input_ids) == len(encoded.labels) == 10
    assert len(encode_records(tokenizer, template, RECORDS, cutoff_len=10)) == 0
    assert len(encode_records(tokenizer, template, RECORDS, cutoff_len=512)) == 2


def test_collator_masks_padding_even_when_pad_is_eos(tokenizer):
    assert tokenizer.pad_token_id == tokenizer.eos_token_id  # the case that id-based masking gets wrong
    dataset = encode_records(tokenizer, load_alpaca_template(), RECORDS, cutoff_len=512)
    batch = PadCollator(pad_token_id=tokenizer.pad_token_id)([dataset[0], dataset[1]])
    lengths = [len(dataset[i]["input_ids"]) for i in range(2)]
    width = max(lengths)
    assert batch["input_ids"].shape == batch["labels"].shape == (2, width)
    for row, length in enumerate(lengths):
        assert batch["attention_mask"][row].tolist() == [1] * length + [0] * (width - length)
        assert batch["labels"][row, :length].tolist() == dataset[row]["labels"]
        assert batch["labels"][row, length:].tolist() == [IGNORE_INDEX] * (width - length)
        # the EOS that ends the target is learned even though it has the pad id
        assert batch["labels"][row, length - 1].item() == tokenizer.eos_token_id
