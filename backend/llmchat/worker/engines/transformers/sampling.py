"""Next-token choice: repetition penalty, temperature, nucleus (top-p) and a seeded generator per sequence.

`Sampler` is one sequence's state (its generator, the token ids it has seen). `choose_tokens` picks the next token
of every row of a batch in a few tensor operations: the penalty by gather/scatter on the seen ids (the HF rule),
the temperature as a column, the nucleus from each row's most likely tokens (a full sort only for a row whose
nucleus is wider), then one draw per row from that row's own generator on the CPU. Every step is row by row
independent, so a seed gives the same reply whatever else shares the batch, on whichever device the model runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from llmchat.worker.engines.base import SamplingParams

NUCLEUS_CANDIDATES = 128  # top-p looks among this many most likely tokens; a wider nucleus falls back to a full sort
NUCLEUS_MARGIN = 1e-4  # the candidates must cover top_p by this much, so rounding never decides the path


class SamplingError(ValueError):
    """One row's scores cannot be sampled (a tiny repetition_penalty makes them infinite); other rows go on."""


class Sampler:
    """Per-sequence sampling state: the generator (so a seed reproduces a reply) and the ids of the tokens seen."""

    def __init__(
        self, params: SamplingParams, prompt_ids: list[int], vocab_size: int, device: torch.device | None = None
    ):
        # `device` is accepted for callers of the former per-row sampler; the seen ids live on the CPU and travel
        # to the scores' device once per step for the whole batch
        self.params = params
        self.vocab_size = vocab_size
        self.generator: torch.Generator | None = None
        if not params.greedy:
            self.generator = torch.Generator(device="cpu")
            if params.seed is not None:
                self.generator.manual_seed(params.seed)
            else:
                self.generator.seed()
        self._seen: set[int] = set()
        self.seen_ids: torch.Tensor | None = None  # (n,) unique ids on the CPU; None without a penalty
        if params.needs_history:
            self._seen = {i for i in prompt_ids if 0 <= i < vocab_size}
            self.seen_ids = torch.tensor(sorted(self._seen), dtype=torch.long)

    def observe(self, token_id: int) -> None:
        if self.seen_ids is not None and 0 <= token_id < self.vocab_size and token_id not in self._seen:
            self._seen.add(token_id)
            self.seen_ids = torch.cat([self.seen_ids, torch.tensor([token_id], dtype=torch.long)])

    def choose(self, logits: torch.Tensor) -> int:
        """`logits`: (vocab,) scores for this sequence's next token. Raises SamplingError."""
        tokens, errors = choose_tokens([self], logits[None])
        if errors:
            raise errors[0]
        return tokens[0]


def choose_tokens(samplers: Sequence[Sampler], logits: torch.Tensor) -> tuple[list[int], dict[int, Exception]]:
    """The next token of every row of `logits` (rows, vocab), row i sampled by `samplers[i]`.

    Returns the tokens and {row: error} for the rows whose sampling failed (their token is a placeholder).
    """
    scores = penalise(samplers, logits.float())
    sampled = [row for row, sampler in enumerate(samplers) if not sampler.params.greedy]
    if len(sampled) == len(samplers):
        tokens = [0] * len(samplers)
    else:
        tokens = torch.argmax(scores, dim=-1).tolist()
    errors: dict[int, Exception] = {}
    if sampled:
        _sample_rows(samplers, scores, sampled, tokens, errors)
    return tokens, errors


def penalise(samplers: Sequence[Sampler], scores: torch.Tensor) -> torch.Tensor:
    """The CTRL / HF rule on every row with a penalty: seen tokens' scores divided by it when positive, multiplied
    when negative. One gather and one scatter per distinct penalty value (a Python scalar, as HF applies it)."""
    by_penalty: dict[float, list[torch.Tensor]] = {}
    width = scores.shape[-1]
    for row, sampler in enumerate(samplers):
        if sampler.seen_ids is not None and sampler.seen_ids.numel():
            by_penalty.setdefault(sampler.params.repetition_penalty, []).append(sampler.seen_ids + row * width)
    if not by_penalty:
        return scores
    flat = scores.reshape(-1).clone()
    for penalty, indices in by_penalty.items():
        index = torch.cat(indices).to(scores.device, non_blocking=True)
        picked = flat[index]
        flat[index] = torch.where(picked < 0, picked * penalty, picked / penalty)
    return flat.view_as(scores)


def nucleus(probs: torch.Tensor, top_p: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per row of `probs` (rows, vocab): (candidate ids, their probabilities, zero outside the nucleus), on the CPU.

    The nucleus is the smallest set of most likely tokens whose probability reaches top_p (always one at least):
    a token is kept when the probability of the tokens before it is under top_p. `top_p` is (rows,).
    """
    count = min(NUCLEUS_CANDIDATES, probs.shape[-1])
    top_probs, top_ids = torch.topk(probs, count, dim=-1)
    cumulative = torch.cumsum(top_probs, dim=-1)
    covered = (cumulative[:, -1] >= top_p + NUCLEUS_MARGIN).tolist()
    kept = _keep_before(top_probs, cumulative, top_p[:, None]).cpu()
    top_ids = top_ids.cpu()
    rows = []
    for row, inside in enumerate(covered):
        if inside:
            rows.append((top_ids[row], kept[row]))
        else:  # the nucleus is wider than the candidates: sort the whole row
            sorted_probs, order = torch.sort(probs[row], descending=True)
            weights = _keep_before(sorted_probs, torch.cumsum(sorted_probs, dim=-1), top_p[row])
            rows.append((order.cpu(), weights.cpu()))
    return rows


def _keep_before(sorted_probs: torch.Tensor, cumulative: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    keep = (cumulative - sorted_probs) < top_p
    keep[..., 0] = True
    return torch.where(keep, sorted_probs, torch.zeros_like(sorted_probs))


def _rows(tensor: torch.Tensor, rows: list[int]) -> torch.Tensor:
    """`tensor[rows]`, without a copy when that is every row in order (the usual case)."""
    if rows == list(range(tensor.shape[0])):
        return tensor
    return tensor.index_select(0, torch.tensor(rows, device=tensor.device))


def _sample_rows(
    samplers: Sequence[Sampler], scores: torch.Tensor, rows: list[int], tokens: list[int], errors: dict[int, Exception]
) -> None:
    """Temperature, nucleus and one seeded draw for each row in `rows` (writes `tokens` and `errors`)."""
    device = scores.device
    temperature = torch.tensor([samplers[r].params.temperature for r in rows], dtype=scores.dtype, device=device)
    probs = torch.softmax(_rows(scores, rows) / temperature[:, None], dim=-1)
    finite = torch.isfinite(probs.sum(dim=-1)).tolist()  # an infinite score makes its row's softmax NaN
    narrowed = [i for i, row in enumerate(rows) if samplers[row].params.top_p < 1.0 and finite[i]]
    wide = [i for i, row in enumerate(rows) if samplers[row].params.top_p >= 1.0 and finite[i]]
    weights: dict[int, tuple[torch.Tensor | None, torch.Tensor]] = {}
    if narrowed:
        limits = torch.tensor([samplers[rows[i]].params.top_p for i in narrowed], dtype=probs.dtype, device=device)
        weights.update(zip(narrowed, nucleus(_rows(probs, narrowed), limits)))
    if wide:  # drawn from every token: one transfer for all of them
        whole = _rows(probs, wide).cpu()
        weights.update((i, (None, whole[n])) for n, i in enumerate(wide))
    for i, row in enumerate(rows):
        if not finite[i]:
            errors[row] = SamplingError("the scores are not finite (is repetition_penalty far too small?)")
            continue
        ids, row_weights = weights[i]
        try:
            drawn = int(torch.multinomial(row_weights, 1, generator=samplers[row].generator))
        except RuntimeError as exc:
            errors[row] = SamplingError(str(exc))
            continue
        tokens[row] = int(ids[drawn]) if ids is not None else drawn
