"""Token ids to text, one token at a time, and stop strings that end a reply the moment they appear.

Decoding one token alone breaks multi-byte characters (a byte-level BPE token can hold half of one), so text is
decoded over a short window and only the part that is complete is released (the decode-diff method vLLM and TGI use).
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"
PROMPT_CONTEXT = 4  # prompt tokens decoded with the reply, so tokenizers that drop a leading space still add it


class IncrementalDetokenizer:
    def __init__(self, tokenizer, prompt_ids: list[int]):
        self.tokenizer = tokenizer
        self.ids = list(prompt_ids[-PROMPT_CONTEXT:])
        self.prefix_offset = 0
        self.read_offset = len(self.ids)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def push(self, token_id: int) -> str:
        """The new text this token completes ('' while a character is still partial)."""
        self.ids.append(token_id)
        prefix = self._decode(self.ids[self.prefix_offset : self.read_offset])
        full = self._decode(self.ids[self.prefix_offset :])
        if len(full) <= len(prefix) or full.endswith(REPLACEMENT):
            return ""
        self.prefix_offset, self.read_offset = self.read_offset, len(self.ids)
        return full[len(prefix) :]

    def flush(self) -> str:
        """Whatever is left undecoded when the reply ends (may hold a replacement character)."""
        prefix = self._decode(self.ids[self.prefix_offset : self.read_offset])
        full = self._decode(self.ids[self.prefix_offset :])
        self.prefix_offset = self.read_offset = len(self.ids)
        return full[len(prefix) :] if len(full) > len(prefix) else ""


class StopMatcher:
    """Accumulates the reply, finds the first stop string, and says how much text is safe to send now.

    Text that could be the start of a stop string is held back until the next tokens show it is not one.
    """

    def __init__(self, stops: list[str]):
        self.stops = [stop for stop in stops if stop]
        self.longest = max((len(stop) for stop in self.stops), default=0)
        self.text = ""
        self.sent = 0
        self.stopped = False

    def add(self, delta: str) -> str:
        """Add new text; returns the text that can be sent now. Sets `stopped` when a stop string appeared."""
        if self.stopped or not delta:
            return ""
        search_from = max(0, len(self.text) - self.longest + 1)
        self.text += delta
        cut = self._first_stop(search_from)
        if cut is not None:
            self.text = self.text[:cut]
            self.stopped = True
            return self._release(len(self.text))
        return self._release(len(self.text) - self._held_back())

    def finish(self) -> str:
        """The reply ended for another reason: everything held back is sent."""
        return self._release(len(self.text))

    def _first_stop(self, search_from: int) -> int | None:
        found = [i for stop in self.stops if (i := self.text.find(stop, search_from)) >= 0]
        return min(found) if found else None

    def _held_back(self) -> int:
        """Length of the longest tail of the text that is a proper prefix of a stop string."""
        for size in range(min(self.longest - 1, len(self.text)), 0, -1):
            tail = self.text[-size:]
            if any(stop.startswith(tail) for stop in self.stops):
                return size
        return 0

    def _release(self, end: int) -> str:
        end = max(end, self.sent)
        chunk = self.text[self.sent : end]
        self.sent = end
        return chunk
