"""Next-token choice for one sequence: repetition penalty, temperature, nucleus (top-p), seeded generator."""

from __future__ import annotations

from dataclasses import dataclass

import torch

GREEDY_BELOW = 1e-5  # temperature at or under this means argmax


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= GREEDY_BELOW

    @property
    def needs_history(self) -> bool:
        return self.repetition_penalty != 1.0


class Sampler:
    """Per-sequence sampling state: the generator (so a seed reproduces a reply) and the tokens seen so far."""

    def __init__(self, params: SamplingParams, prompt_ids: list[int], vocab_size: int, device: torch.device):
        self.params = params
        self.generator: torch.Generator | None = None
        if not params.greedy:
            self.generator = torch.Generator(device="cpu")
            if params.seed is not None:
                self.generator.manual_seed(params.seed)
            else:
                self.generator.seed()
        self.seen: torch.Tensor | None = None
        if params.needs_history:
            self.seen = torch.zeros(vocab_size, dtype=torch.bool, device=device)
            self.seen[torch.tensor(prompt_ids, dtype=torch.long, device=device).clamp(max=vocab_size - 1)] = True

    def observe(self, token_id: int) -> None:
        if self.seen is not None and token_id < self.seen.numel():
            self.seen[token_id] = True

    def choose(self, logits: torch.Tensor) -> int:
        """`logits`: (vocab,) float scores for this sequence's next token."""
        params = self.params
        if self.seen is not None:
            logits = self._penalise(logits)
        if params.greedy:
            return int(torch.argmax(logits))
        logits = logits.float() / params.temperature
        probs = torch.softmax(logits, dim=-1)
        if params.top_p < 1.0:
            probs = _nucleus(probs, params.top_p)
        # sampling on the CPU keeps the seeded stream identical whatever device the model runs on
        return int(torch.multinomial(probs.cpu(), 1, generator=self.generator))

    def _penalise(self, logits: torch.Tensor) -> torch.Tensor:
        """The CTRL / HF rule: divide positive scores of seen tokens by the penalty, multiply negative ones."""
        penalty = self.params.repetition_penalty
        seen = self.seen[: logits.numel()]
        penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
        return torch.where(seen, penalised, logits)


def _nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches top_p (always at least one)."""
    sorted_probs, order = torch.sort(probs, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    sorted_probs = torch.where(before < top_p, sorted_probs, torch.zeros_like(sorted_probs))
    kept = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return kept / kept.sum()
