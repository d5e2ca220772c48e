"""The batched sampler against the rules it implements: HF's repetition penalty, the per-row nucleus, seeded draws."""

from __future__ import annotations

import pytest
import torch
from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

from llmchat.worker.engines.base import SamplingParams
from llmchat.worker.engines.transformers.sampling import (
    NUCLEUS_CANDIDATES,
    Sampler,
    SamplingError,
    choose_tokens,
    nucleus,
    penalise,
)

VOCAB = 1000


def scores(rows: int, seed: int = 0, scale: float = 3.0) -> torch.Tensor:
    return torch.randn(rows, VOCAB, generator=torch.Generator().manual_seed(seed)) * scale


def history(seed: int, count: int = 60) -> list[int]:
    """Token ids with repeats, as a prompt and a reply have."""
    return torch.randint(0, VOCAB, (count,), generator=torch.Generator().manual_seed(seed)).tolist()


def reference_nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """The per-row rule the engine used before batching: sort, keep while the mass before a token is under top_p."""
    sorted_probs, order = torch.sort(probs, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    sorted_probs = torch.where(before < top_p, sorted_probs, torch.zeros_like(sorted_probs))
    return torch.zeros_like(probs).scatter(0, order, sorted_probs)


def test_penalty_matches_hf_repetition_penalty_processor():
    logits = scores(4)
    ids = [history(row) for row in range(4)]
    samplers = [Sampler(SamplingParams(0.0, repetition_penalty=1.3), ids[row][:40], VOCAB) for row in range(4)]
    for sampler, row_ids in zip(samplers, ids):
        for token in row_ids[40:]:
            sampler.observe(token)
    expected = RepetitionPenaltyLogitsProcessor(1.3)(torch.tensor(ids), logits.clone())
    assert torch.equal(penalise(samplers, logits.clone()), expected)


def test_rows_with_different_penalties_each_follow_their_own():
    logits = scores(3, seed=1)
    penalties = [1.1, 1.0, 2.5]
    ids = [history(10 + row) for row in range(3)]
    samplers = [
        Sampler(SamplingParams(0.0, repetition_penalty=penalty), row_ids, VOCAB)
        for penalty, row_ids in zip(penalties, ids)
    ]
    penalised = penalise(samplers, logits.clone())
    for row, (penalty, row_ids) in enumerate(zip(penalties, ids)):
        expected = (
            RepetitionPenaltyLogitsProcessor(penalty)(torch.tensor([row_ids]), logits[row : row + 1].clone())
            if penalty != 1.0
            else logits[row : row + 1]
        )
        assert torch.equal(penalised[row : row + 1], expected)
    assert not torch.equal(penalised, logits)


def test_greedy_rows_take_the_argmax_of_the_penalised_scores():
    logits = scores(2, seed=2)
    favourite = int(torch.argmax(logits[0]))
    logits[0, favourite] = logits[0].max() + 0.01  # barely ahead: a penalty on it hands the lead to another token
    samplers = [
        Sampler(SamplingParams(0.0, repetition_penalty=1.5), [favourite], VOCAB),
        Sampler(SamplingParams(0.0), [favourite], VOCAB),
    ]
    tokens, errors = choose_tokens(samplers, logits)
    assert not errors
    assert tokens[0] != favourite and tokens[0] == int(torch.argmax(penalise(samplers[:1], logits[:1].clone())))
    assert tokens[1] == int(torch.argmax(logits[1]))


@pytest.mark.parametrize("scale", [8.0, 3.0, 0.1])  # peaked (nucleus among the candidates) ... flat (full sort)
@pytest.mark.parametrize("top_p", [0.1, 0.5, 0.9, 0.99])
def test_nucleus_keeps_the_same_set_as_the_per_row_rule(scale, top_p):
    probs = torch.softmax(scores(6, seed=3, scale=scale), dim=-1)
    for row, (ids, weights) in enumerate(nucleus(probs, torch.full((6,), top_p))):
        expected = reference_nucleus(probs[row], top_p)
        assert set(ids[weights > 0].tolist()) == set(torch.nonzero(expected).flatten().tolist())
        assert torch.equal(weights[weights > 0], expected[ids[weights > 0]])


def test_a_flat_row_falls_back_to_a_full_sort():
    probs = torch.softmax(scores(1, scale=0.01), dim=-1)
    _, weights = nucleus(probs, torch.tensor([0.9]))[0]
    assert int((weights > 0).sum()) > NUCLEUS_CANDIDATES  # more tokens than the candidates hold: all were sorted


def seeded(seed: int, top_p: float = 0.9, penalty: float = 1.2) -> Sampler:
    return Sampler(
        SamplingParams(temperature=0.8, top_p=top_p, repetition_penalty=penalty, seed=seed), history(5), VOCAB
    )


def test_a_seed_gives_the_same_tokens_alone_and_in_any_batch():
    logits_per_step = [scores(1, seed=200 + step, scale=2.0)[0] for step in range(20)]

    def run(seed: int, neighbours: list[Sampler]) -> list[int]:
        mine = seeded(seed)
        samplers = [*neighbours[:1], mine, *neighbours[1:]]
        position = samplers.index(mine)
        chosen = []
        for step, logits in enumerate(logits_per_step):
            batch = scores(len(samplers), seed=300 + step, scale=2.0)
            batch[position] = logits
            tokens, errors = choose_tokens(samplers, batch)
            assert not errors
            for sampler, token in zip(samplers, tokens):
                sampler.observe(token)
            chosen.append(tokens[position])
        return chosen

    alone = run(7, [])
    assert run(7, [seeded(1), Sampler(SamplingParams(0.0), [], VOCAB), seeded(2, top_p=1.0, penalty=1.0)]) == alone
    assert run(7, [seeded(3, top_p=0.5)]) == alone
    assert run(8, []) != alone


def test_one_rows_infinite_scores_fail_that_row_alone():
    logits = scores(3, seed=4)
    bad = Sampler(SamplingParams(1.0, repetition_penalty=1e-300, seed=0), list(range(VOCAB)), VOCAB)
    samplers = [seeded(1), bad, Sampler(SamplingParams(0.0), [], VOCAB)]
    tokens, errors = choose_tokens(samplers, logits)
    assert list(errors) == [1] and isinstance(errors[1], SamplingError)
    assert tokens[2] == int(torch.argmax(logits[2]))
    with pytest.raises(SamplingError):
        bad.choose(logits[1])
