"""Incremental detokenisation and stop strings, token by token."""

from __future__ import annotations

import pytest

from llmchat.worker.textstream import IncrementalDetokenizer, StopMatcher


@pytest.fixture(scope="module")
def tokenizer(tiny_model_path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_path))


def stream(tokenizer, text: str, prompt: str = "Say:") -> list[str]:
    detok = IncrementalDetokenizer(tokenizer, tokenizer(prompt)["input_ids"])
    pieces = [detok.push(token) for token in tokenizer(text)["input_ids"]]
    pieces.append(detok.flush())
    return pieces


def test_multibyte_characters_come_out_whole(tokenizer):
    text = "Caf\u00e9 \u65e5\u672c\u8a9e \U0001f600 ok"
    ids = tokenizer(text)["input_ids"]
    assert len(ids) > len(text.split())  # some characters span several byte tokens
    pieces = stream(tokenizer, text)
    assert "".join(pieces) == text
    assert all("\ufffd" not in piece for piece in pieces)
    assert "" in pieces  # a partial character was held back rather than sent broken


def test_plain_text_streams_token_by_token(tokenizer):
    text = "The quick brown fox jumps over the lazy dog."
    pieces = stream(tokenizer, text)
    assert "".join(pieces) == text
    assert sum(1 for piece in pieces if piece) > 3


def feed(matcher: StopMatcher, deltas: list[str]) -> list[str]:
    sent = []
    for delta in deltas:
        sent.append(matcher.add(delta))
        if matcher.stopped:
            break
    else:
        sent.append(matcher.finish())
    return sent


def test_stop_string_split_across_pieces_is_never_sent():
    matcher = StopMatcher(["\nHuman:"])
    sent = feed(matcher, ["Hello", " there", "\n", "Hu", "man", ": more"])
    assert "".join(sent) == "Hello there"
    assert matcher.stopped
    assert sent[2] == "" and sent[3] == ""  # "\n", then "\nHu", held back: they might start the stop string


def test_held_back_text_is_released_when_it_is_not_a_stop():
    matcher = StopMatcher(["\nHuman:"])
    sent = feed(matcher, ["Hi", "\n", "Hu", "go is here"])
    assert sent == ["Hi", "", "", "\nHugo is here", ""]
    assert not matcher.stopped


def test_first_of_several_stops_wins_and_finish_flushes():
    matcher = StopMatcher(["###", "\nAI:"])
    assert "".join(feed(matcher, ["a\nAI", ": x ### y"])) == "a"
    matcher = StopMatcher(["END"])
    assert "".join(feed(matcher, ["the E", "N"])) == "the EN"  # the reply ended: the held tail goes out


def _sequence(tokenizer, stop: tuple[str, ...]):
    import torch

    from llmchat.worker.engines.base import GenerationHandle, GenerationRequest
    from llmchat.worker.engines.transformers.sequence import Sequence

    events = []
    request = GenerationRequest(prompt_ids=tokenizer("Say:")["input_ids"], max_tokens=50, stop=stop)
    sequence = Sequence(
        request,
        events.append,
        GenerationHandle(),
        tokenizer,
        frozenset({tokenizer.eos_token_id}),
        len(tokenizer),
        torch.device("cpu"),
    )
    return sequence, events


def test_text_held_back_for_a_stop_is_sent_when_eos_ends_the_reply(tokenizer):
    """ "Use #" could be the start of the stop "###"; the model then ends with EOS: the "#" is part of the reply.
    It used to be dropped (EOS finished the sequence without releasing what the stop matcher held back)."""
    from llmchat.worker.engines.base import Delta, Finished

    sequence, events = _sequence(tokenizer, ("###",))
    for token in tokenizer("Use #")["input_ids"]:
        sequence.accept(token)
    sequence.accept(tokenizer.eos_token_id)
    text = "".join(event.text for event in events if isinstance(event, Delta))
    assert text == "Use #"
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
