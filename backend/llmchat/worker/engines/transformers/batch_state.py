"""The running batch's tensors: a shared KV cache with left padding, its attention mask and per-row positions.

Rows join after their prefill (a group prefilled together arrives left-padded; it is padded on the left to the
batch length, or the batch to its length) and leave when finished (their rows are cut out of every layer).
Columns that are padding in every row are trimmed, so the cache never grows past the longest live sequence.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _layers(cache) -> list:
    return list(cache.layers)


def _pad_left(tensor: torch.Tensor, amount: int, dim: int) -> torch.Tensor:
    """Zeros in front along `dim` (the sequence dimension: -2 for keys/values, -1 for the mask)."""
    if amount <= 0:
        return tensor
    pad = [0, 0] * (tensor.dim() - 1 - (dim % tensor.dim())) + [amount, 0]
    return F.pad(tensor, pad)


class BatchState:
    def __init__(self, device: torch.device):
        self.device = device
        self.cache = None  # transformers DynamicCache, (B, heads, T, head_dim) per layer
        self.mask = torch.zeros((0, 0), dtype=torch.long, device=device)  # (B, T): 1 where a real token is
        self.positions = torch.zeros(0, dtype=torch.long, device=device)  # (B,): position of each row's next token
        self.next_tokens = torch.zeros(0, dtype=torch.long, device=device)  # (B,): each row's input for the next step

    @property
    def size(self) -> int:
        return int(self.positions.numel())

    @property
    def length(self) -> int:
        return int(self.mask.shape[1])

    def add_rows(self, cache, mask: torch.Tensor, next_tokens: list[int], rows: list[int] | None = None) -> None:
        """Merge a prefilled, left-padded cache whose real tokens `mask` (n, T) marks. `rows` picks the rows of that
        cache that join (default all); `next_tokens` holds their next inputs, in that order."""
        mask = mask.to(device=self.device, dtype=torch.long)
        if rows is not None and len(rows) < mask.shape[0]:
            index = torch.tensor(rows, dtype=torch.long, device=self.device)
            for layer in _layers(cache):
                layer.keys = layer.keys.index_select(0, index)
                layer.values = layer.values.index_select(0, index)
            mask = mask.index_select(0, index)
        length = int(mask.shape[1])
        if self.cache is None:
            self.cache, self.mask = cache, mask
        else:
            width = max(self.length, length)
            for mine, theirs in zip(_layers(self.cache), _layers(cache)):
                mine.keys = torch.cat(
                    [_pad_left(mine.keys, width - self.length, -2), _pad_left(theirs.keys, width - length, -2)], dim=0
                )
                mine.values = torch.cat(
                    [_pad_left(mine.values, width - self.length, -2), _pad_left(theirs.values, width - length, -2)],
                    dim=0,
                )
            self.mask = torch.cat(
                [_pad_left(self.mask, width - self.length, -1), _pad_left(mask, width - length, -1)], dim=0
            )
        self.positions = torch.cat([self.positions, mask.sum(dim=1)])
        self.next_tokens = torch.cat(
            [self.next_tokens, torch.tensor(next_tokens, dtype=torch.long, device=self.device)]
        )
        self._trim_padding()

    def step_inputs(self) -> dict:
        """Model inputs for one decode step of every row."""
        self.mask = torch.cat([self.mask, torch.ones((self.size, 1), dtype=torch.long, device=self.device)], dim=1)
        return {
            "input_ids": self.next_tokens[:, None],
            "attention_mask": self.mask,
            "position_ids": self.positions[:, None],
            "past_key_values": self.cache,
            "use_cache": True,
        }

    def advance(self, chosen: torch.Tensor) -> None:
        """After a step: the chosen tokens are the next inputs, one position further on."""
        self.next_tokens = chosen.to(self.device)
        self.positions = self.positions + 1

    def keep_rows(self, keep: list[int]) -> None:
        """Drop every row not in `keep` (indices into the current batch), then trim all-padding columns."""
        if len(keep) == self.size:
            return
        if not keep:
            self.__init__(self.device)
            return
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        for layer in _layers(self.cache):
            layer.keys = layer.keys.index_select(0, index)
            layer.values = layer.values.index_select(0, index)
        self.mask = self.mask.index_select(0, index)
        self.positions = self.positions.index_select(0, index)
        self.next_tokens = self.next_tokens.index_select(0, index)
        self._trim_padding()

    def _trim_padding(self) -> None:
        live = torch.nonzero(self.mask.any(dim=0))
        start = int(live[0]) if live.numel() else self.length
        if start == 0:
            return
        for layer in _layers(self.cache):
            layer.keys = layer.keys[:, :, start:, :]
            layer.values = layer.values[:, :, start:, :]
        self.mask = self.mask[:, start:]
