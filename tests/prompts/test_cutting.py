from __future__ import annotations

from llmchat.prompts import StreamCutter, clean_reply, cut_at_stop

FEWSHOT_STOPS = ("\nHuman:", "\nAI:")
ALPACA_STOPS = ("### Instruction:", "### Input:", "### Response:")


def stream(pieces: list[str], stops) -> tuple[list[str], str, bool]:
    cutter = StreamCutter(stops)
    out = [cutter.feed(piece) for piece in pieces]
    out.append(cutter.finish())
    return [piece for piece in out if piece], cutter.text, cutter.stopped


def test_babbled_fewshot_reply_is_cut_at_the_next_human_turn():
    babble = " Paris is the capital.\nHuman: And Germany?\nAI: Berlin."
    assert clean_reply(babble, FEWSHOT_STOPS) == "Paris is the capital."


def test_alpaca_reply_is_cut_at_the_next_instruction():
    babble = "Hello!\n\n### Instruction:\nSay bye.\n\n### Response:\nBye!"
    assert clean_reply(babble, ALPACA_STOPS) == "Hello!"
    assert cut_at_stop(babble, ALPACA_STOPS) == ("Hello!\n\n", True)


def test_a_stop_split_across_pieces_is_never_shown():
    pieces, text, stopped = stream([" Par", "is.\nHu", "man: next", " question"], FEWSHOT_STOPS)
    assert "".join(pieces) == text == "Paris."
    assert stopped
    assert not any("Hu" in piece for piece in pieces)


def test_a_false_alarm_is_released_when_the_stream_goes_on_or_ends():
    pieces, text, stopped = stream(["Line one\nHum", "ble pie.\nAI"], FEWSHOT_STOPS)
    assert text == "Line one\nHumble pie.\nAI"
    assert "".join(pieces) == text
    assert not stopped


def test_leading_whitespace_after_the_bot_title_is_dropped_but_inner_spaces_kept():
    _, text, _ = stream(["  ", " Hello", " there"], FEWSHOT_STOPS)
    assert text == "Hello there"


def test_no_stops_passes_everything_through_but_trailing_whitespace():
    pieces, text, _ = stream(["a", "b\n", "c", " \n"], ())
    assert text == "".join(pieces) == "ab\nc"
