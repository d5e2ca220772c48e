"""Grouping arrivals for a shared prefill pass, and the left-padded inputs of such a pass."""

from __future__ import annotations

import torch

from llmchat.worker.engines.transformers.prefill import PREFILL_GROUP_TOKENS, padded_inputs, prefill_groups


def test_short_prompts_share_one_pass():
    assert prefill_groups([7, 12, 9, 10]) == [[0, 2, 3, 1]]


def test_a_long_prompt_is_not_padded_onto_short_ones():
    groups = prefill_groups([500, 10, 12, 480])
    assert sorted(map(sorted, groups)) == [[0, 3], [1, 2]]


def test_a_pass_holds_at_most_the_token_budget():
    lengths = [PREFILL_GROUP_TOKENS // 4] * 9
    groups = prefill_groups(lengths)
    assert sorted(i for group in groups for i in group) == list(range(9))
    assert all(len(group) * PREFILL_GROUP_TOKENS // 4 <= PREFILL_GROUP_TOKENS for group in groups)
    assert prefill_groups([PREFILL_GROUP_TOKENS * 2]) == [[0]]  # longer than the budget: alone, still prefilled


def test_padded_inputs_pad_on_the_left_and_count_positions_from_each_prompt_start():
    inputs = padded_inputs([[5, 6, 7], [8]], torch.device("cpu"), pad_id=0)
    assert inputs["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]]
    assert inputs["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert inputs["position_ids"].tolist() == [[0, 1, 2], [0, 0, 0]]
