"""Cut a reply where the model starts to write the next turn itself.

Stop strings are sent to the worker too, but a third-party server may ignore them, and a streamed piece can
hold the start of a stop string: the same cut is applied here to whatever comes back.
"""

from __future__ import annotations

from collections.abc import Sequence


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """The text before the first stop string, and whether one was found."""
    positions = [text.find(stop) for stop in stops if stop]
    found = [position for position in positions if position >= 0]
    if not found:
        return text, False
    return text[: min(found)], True


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters could be the beginning of a stop string (kept until the next piece)."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:size]):
                longest = max(longest, size)
                break
    return longest


class StreamCutter:
    """Feed streamed pieces in; get back only text that is surely part of the reply."""

    def __init__(self, stops: Sequence[str], strip_leading: bool = True):
        self._stops = [stop for stop in stops if stop]
        self._pending = ""
        self._strip_leading = strip_leading
        self.emitted = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        text = self._pending + piece
        if self._strip_leading and not self.emitted:
            # the prompt ends with "AI:" or "### Response:"; the reply's first whitespace is not content
            text = text.lstrip()
        text, self.stopped = cut_at_stop(text, self._stops)
        # trailing whitespace waits too: it is only part of the reply if more text follows
        keep = 0 if self.stopped else max(_held_back(text, self._stops), len(text) - len(text.rstrip()))
        if self.stopped:
            text = text.rstrip()
        ready, self._pending = (text[: len(text) - keep], text[len(text) - keep :]) if keep else (text, "")
        self.emitted += ready
        return ready

    def finish(self) -> str:
        """The held-back tail once the stream has ended (it was not a stop string after all)."""
        rest, self._pending = ("" if self.stopped else self._pending.rstrip()), ""
        self.emitted += rest
        return rest

    @property
    def text(self) -> str:
        """The whole reply so far: exactly the pieces handed out."""
        return self.emitted


def clean_reply(text: str, stops: Sequence[str]) -> str:
    """The non-streamed version of StreamCutter."""
    cutter = StreamCutter(stops)
    cutter.feed(text)
    cutter.finish()
    return cutter.text
