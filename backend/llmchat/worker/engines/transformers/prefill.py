"""Prefill in batches: prompts that arrive together run through the model in one left-padded forward pass.

A forward pass on the CPU costs about as much for eight short prompts as for one (it is bound by reading the
weights), so prefilling arrivals one by one cost one pass each. Prompts of very different lengths are not mixed
(padding a short prompt to a long one's length wastes the long one's compute), and one pass holds at most
`PREFILL_GROUP_TOKENS` padded tokens, so its attention memory stays what one long prompt alone needs.
"""

from __future__ import annotations

import torch

PREFILL_GROUP_TOKENS = 2048  # padded tokens in one prefill pass (a longer prompt runs alone)
PADDING_SLACK = 1.25  # a group's padded size may exceed its real tokens by this factor...
PADDING_ALLOWANCE = 32  # ...plus this many tokens (short prompts always group)


def prefill_groups(lengths: list[int]) -> list[list[int]]:
    """Indices into `lengths` (prompt lengths), grouped for one forward pass each, similar lengths together."""
    groups: list[list[int]] = []
    group: list[int] = []
    real = 0
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        length = lengths[index]  # the longest so far: the group's padded width if it joins
        padded = length * (len(group) + 1)
        fits = padded <= PREFILL_GROUP_TOKENS and padded <= PADDING_SLACK * (real + length) + PADDING_ALLOWANCE
        if group and not fits:
            groups.append(group)
            group, real = [], 0
        group.append(index)
        real += length
    if group:
        groups.append(group)
    return groups


def padded_inputs(prompts: list[list[int]], device: torch.device, pad_id: int = 0) -> dict:
    """Model inputs for prompts of different lengths: left padding, its attention mask, each row's positions."""
    width = max(len(ids) for ids in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, ids in enumerate(prompts):
        input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        mask[row, width - len(ids) :] = 1
    positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device), "position_ids": positions.to(device)}
