"""Server-sent events of the chat API, read line by line (tests and the soak in bench/soak.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def iter_sse(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) pairs as they arrive; comments (`: ping`) are skipped."""
    for _event_id, name, data in iter_sse_with_ids(lines):
        yield name, data


def iter_sse_with_ids(lines: Iterable[str]) -> Iterator[tuple[int | None, str, dict[str, Any]]]:
    """(id, event, data) as they arrive: the id of an event from a reply's log (None for one without)."""
    event_id, name, data = None, None, []
    for line in lines:
        if line.startswith("id:"):
            event_id = int(line[3:].strip())
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and name:
            yield event_id, name, json.loads("\n".join(data))
            event_id, name, data = None, None, []
