"""Reads Alpaca-format data and DPO preference rows (JSON list or JSON Lines), checks every record, splits it
deterministically.

Errors name the file, the line (JSONL: the line of the record; JSON: the record's index, 1-based, as "item")
and the field, so a user can fix their own file without guessing.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REQUIRED_FIELDS = ("instruction", "output")
TEXT_FIELDS = ("instruction", "input", "output")
PREFERENCE_FIELDS = ("prompt", "chosen", "rejected")
UNSEEN = "unseen"  # the `phrasing` of a record asked in a held-out template: test split only


class DataError(ValueError):
    """A data file that cannot be used; the message says where and why."""

    def __init__(self, path: Path, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field = Path(path), line, field
        where = str(path) + (f":{line}" if line is not None else "")
        what = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{what} {message}")


@dataclass(frozen=True)
class Split:
    train: list[dict]
    validation: list[dict]
    test: list[dict]


def _check_record(path: Path, line: int, record: object) -> dict:
    if not isinstance(record, dict):
        raise DataError(
            path, f"expected an object with fields {', '.join(TEXT_FIELDS)}, got {type(record).__name__}", line
        )
    for field in REQUIRED_FIELDS:
        if field not in record:
            raise DataError(path, "is missing", line, field)
    for field in TEXT_FIELDS:
        value = record.get(field, "")
        if value is None and field == "input":
            value = ""
        if not isinstance(value, str):
            raise DataError(path, f"must be a string, got {type(value).__name__}", line, field)
    if not record["instruction"].strip():
        raise DataError(path, "is empty", line, "instruction")
    if not record["output"].strip():
        raise DataError(path, "is empty", line, "output")
    return {**record, "input": record.get("input") or ""}


def _check_preference(path: Path, line: int, record: object) -> dict:
    """A DPO row: `prompt` (rendered as the Alpaca instruction; an optional `input` as its input), the preferred
    answer `chosen` and the worse one `rejected`."""
    if not isinstance(record, dict):
        raise DataError(
            path, f"expected an object with fields {', '.join(PREFERENCE_FIELDS)}, got {type(record).__name__}", line
        )
    for field in PREFERENCE_FIELDS:
        if field not in record:
            raise DataError(path, "is missing", line, field)
        if not isinstance(record[field], str):
            raise DataError(path, f"must be a string, got {type(record[field]).__name__}", line, field)
        if not record[field].strip():
            raise DataError(path, "is empty", line, field)
    if not isinstance(record.get("input") or "", str):
        raise DataError(path, f"must be a string, got {type(record['input']).__name__}", line, "input")
    if record["chosen"] == record["rejected"]:
        raise DataError(path, "is the same as 'chosen': a preference needs two different answers", line, "rejected")
    return {**record, "input": record.get("input") or ""}


Check = Callable[[Path, int, object], dict]


def _read_jsonl(path: Path, text: str, check: Check) -> list[dict]:
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"not valid JSON ({exc.msg} at column {exc.colno})", number) from exc
        records.append(check(path, number, record))
    return records


def _read_json(path: Path, text: str, check: Check) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc.msg})", exc.lineno) from exc
    if not isinstance(data, list):
        raise DataError(path, "a .json data file must hold a list of records")
    # a JSON list has no per-record line numbers that survive parsing: report the item number instead
    return [check(path, index, record) for index, record in enumerate(data, start=1)]


def load_examples(path: Path | str) -> list[dict]:
    """All records of an Alpaca JSON / JSONL file, checked; raises DataError on the first bad one."""
    return _load(Path(path), _check_record)


def load_preferences(path: Path | str) -> list[dict]:
    """All rows of a preference file ({prompt, chosen, rejected} JSON / JSONL), checked, for method: dpo."""
    return _load(Path(path), _check_preference)


def _load(path: Path, check: Check) -> list[dict]:
    if not path.is_file():
        raise DataError(path, "no such file")
    text = path.read_text(encoding="utf-8")
    is_json_list = path.suffix == ".json" or text.lstrip().startswith("[")
    records = _read_json(path, text, check) if is_json_list else _read_jsonl(path, text, check)
    if not records:
        raise DataError(path, "holds no records")
    return records


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _size(value: float, total: int) -> int:
    """A config size: a fraction of the data when below 1, else a count."""
    return round(value * total) if 0 < value < 1 else int(value)


def split_examples(examples: list[dict], validation: float, test: float, seed: int) -> Split:
    """Seeded shuffle, then test | validation | train. Same data + seed -> same split, on any machine.

    Records marked `"phrasing": "unseen"` (asked in a held-out template, see datagen.py) all go to the test
    split and never to train or validation; `validation` and `test` size the split of the other records.
    """
    held_out = [record for record in examples if record.get("phrasing") == UNSEEN]
    pool = [record for record in examples if record.get("phrasing") != UNSEEN]
    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    shuffled = [pool[i] for i in order]
    n_test, n_val = _size(test, len(shuffled)), _size(validation, len(shuffled))
    if n_test + n_val >= len(shuffled):
        raise ValueError(f"validation ({n_val}) + test ({n_test}) leave no training examples out of {len(shuffled)}")
    test_split = shuffled[:n_test] + held_out
    random.Random(seed + 1).shuffle(test_split)  # `evaluate --limit N` then takes both kinds
    return Split(
        test=test_split,
        validation=shuffled[n_test : n_test + n_val],
        train=shuffled[n_test + n_val :],
    )
