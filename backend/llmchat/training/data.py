"""Reads training rows (JSON list, JSON Lines or CSV) in three formats, checks every record, splits it
deterministically: `alpaca` ({instruction, input, output}: lora, full), `preference` ({prompt, chosen, rejected}:
dpo) and `kto` ({prompt, completion, label}: kto, one rated answer per row, no pairs).

Errors name the file, the line (JSONL and CSV: the line of the record; JSON: the record's index, 1-based, as
"item") and the field, so a user can fix their own file without guessing. `load_rows` stops at the first bad
record; `check_text` (the Data page's upload) reads on and returns every error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REQUIRED_FIELDS = ("instruction", "output")
TEXT_FIELDS = ("instruction", "input", "output")
PREFERENCE_FIELDS = ("prompt", "chosen", "rejected")
KTO_FIELDS = ("prompt", "completion", "label")
FORMATS = ("alpaca", "preference", "kto")
METHOD_FORMATS = {"lora": "alpaca", "full": "alpaca", "dpo": "preference", "kto": "kto"}  # what each method trains on
# a KTO label: JSON true/false, or in a CSV cell one of these words
LABEL_WORDS = {"true": True, "false": False, "1": True, "0": False, "up": True, "down": False}
UNSEEN = "unseen"  # the `phrasing` of a record asked in a held-out template: test split only


class DataError(ValueError):
    """A data file that cannot be used; the message says where and why."""

    def __init__(self, path: Path, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.reason = Path(path), line, field, message
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


def _prompt_row(path: Path, line: int, record: object, fields: tuple[str, ...], texts: tuple[str, ...]) -> dict:
    """A row of `fields` whose `texts` are non-empty strings, with an optional string `input` ("" when absent)."""
    if not isinstance(record, dict):
        raise DataError(path, f"expected an object with fields {', '.join(fields)}, got {type(record).__name__}", line)
    for field in fields:
        if field not in record:
            raise DataError(path, "is missing", line, field)
    for field in texts:
        if not isinstance(record[field], str):
            raise DataError(path, f"must be a string, got {type(record[field]).__name__}", line, field)
        if not record[field].strip():
            raise DataError(path, "is empty", line, field)
    if not isinstance(record.get("input") or "", str):
        raise DataError(path, f"must be a string, got {type(record['input']).__name__}", line, "input")
    return {**record, "input": record.get("input") or ""}


def _check_preference(path: Path, line: int, record: object) -> dict:
    """A DPO row: `prompt` (rendered as the Alpaca instruction; an optional `input` as its input), the preferred
    answer `chosen` and the worse one `rejected`."""
    row = _prompt_row(path, line, record, PREFERENCE_FIELDS, PREFERENCE_FIELDS)
    if row["chosen"] == row["rejected"]:
        raise DataError(path, "is the same as 'chosen': a preference needs two different answers", line, "rejected")
    return row


def _check_kto(path: Path, line: int, record: object) -> dict:
    """A KTO row: `prompt` (rendered as the Alpaca instruction; an optional `input` as its input), one answer
    `completion` and whether it is a good one, `label` (true: thumbs up, false: thumbs down)."""
    row = _prompt_row(path, line, record, KTO_FIELDS, ("prompt", "completion"))
    label = row["label"]
    if isinstance(label, str) and label.strip().lower() in LABEL_WORDS:
        label = LABEL_WORDS[label.strip().lower()]
    if not isinstance(label, bool):
        raise DataError(path, f"must be true or false (up/down in CSV), got {label!r}", line, "label")
    return {**row, "label": label}


Check = Callable[[Path, int, object], dict]
CHECKS: dict[str, Check] = {"alpaca": _check_record, "preference": _check_preference, "kto": _check_kto}
REQUIRED_COLUMNS = {"alpaca": REQUIRED_FIELDS, "preference": PREFERENCE_FIELDS, "kto": KTO_FIELDS}
Errors = list[DataError] | None  # None: raise the first error; a list: collect every error and read on


def _checked(path: Path, number: int, record: object, check: Check, errors: Errors) -> dict | None:
    try:
        return check(path, number, record)
    except DataError as exc:
        if errors is None:
            raise
        errors.append(exc)
        return None


def _read_jsonl(path: Path, text: str, check: Check, errors: Errors = None) -> list[dict]:
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            error = DataError(path, f"not valid JSON ({exc.msg} at column {exc.colno})", number)
            if errors is None:
                raise error from exc
            errors.append(error)
            continue
        checked = _checked(path, number, record, check, errors)
        if checked is not None:
            records.append(checked)
    return records


def _read_json(path: Path, text: str, check: Check, errors: Errors = None) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc.msg})", exc.lineno) from exc
    if not isinstance(data, list):
        raise DataError(path, "a .json data file must hold a list of records")
    # a JSON list has no per-record line numbers that survive parsing: report the item number instead
    checked = [_checked(path, index, record, check, errors) for index, record in enumerate(data, start=1)]
    return [record for record in checked if record is not None]


def _read_csv(path: Path, text: str, check: Check, errors: Errors = None, required: tuple[str, ...] = ()) -> list[dict]:
    """A CSV with a header row naming the fields; a cell left out of a short row counts as a missing field."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        missing = [column for column in required if column not in (reader.fieldnames or [])]
        if missing:
            header = ", ".join(reader.fieldnames or [])
            raise DataError(path, f"is not a column of the header ({header})", 1, missing[0])
        records = []
        for row in reader:
            record = {key: value for key, value in row.items() if key is not None and value is not None}
            checked = _checked(path, reader.line_num, record, check, errors)
            if checked is not None:
                records.append(checked)
    except csv.Error as exc:  # a stray quote, a NUL, a cell over the csv module's size limit: the rest is unreadable
        raise DataError(path, f"not valid CSV ({exc})", reader.line_num or 1) from exc
    return records


def _parse(path: Path, text: str, format_name: str, errors: Errors) -> list[dict]:
    check = CHECKS[format_name]
    text = text.removeprefix("\ufeff")  # the byte order mark spreadsheet programs put before a CSV header
    if path.suffix.lower() == ".csv":
        return _read_csv(path, text, check, errors, REQUIRED_COLUMNS[format_name])
    if path.suffix == ".json" or text.lstrip().startswith("["):
        return _read_json(path, text, check, errors)
    return _read_jsonl(path, text, check, errors)


def load_rows(path: Path | str, format_name: str) -> list[dict]:
    """All records of a data file in `format_name` (JSON, JSON Lines or .csv), checked; raises DataError on the
    first bad one."""
    if format_name not in CHECKS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format_name!r}")
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such file")
    records = _parse(path, path.read_text(encoding="utf-8"), format_name, None)
    if not records:
        raise DataError(path, "holds no records")
    return records


def check_text(name: str, text: str, format_name: str) -> tuple[list[dict], list[DataError]]:
    """Every good record of a file's text (named `name`: its suffix says CSV or JSON) and every error, each with
    its line; a file-wide problem (a CSV header without a required column, a broken JSON list) is the one error."""
    errors: list[DataError] = []
    try:
        records = _parse(Path(name), text, format_name, errors)
    except DataError as exc:
        return [], [exc]
    if not records and not errors:
        errors.append(DataError(Path(name), "holds no records"))
    return records, errors


def detect_format(record: dict) -> str:
    """Which format a row is in, from its fields (the Data page lists files it did not write)."""
    if "chosen" in record or "rejected" in record:
        return "preference"
    if "completion" in record and "label" in record:
        return "kto"
    return "alpaca"


def load_examples(path: Path | str) -> list[dict]:
    """All records of an Alpaca JSON / JSONL / CSV file, checked; raises DataError on the first bad one."""
    return load_rows(path, "alpaca")


def load_preferences(path: Path | str) -> list[dict]:
    """All rows of a preference file ({prompt, chosen, rejected}), checked, for method: dpo."""
    return load_rows(path, "preference")


def load_kto(path: Path | str) -> list[dict]:
    """All rows of a KTO file ({prompt, completion, label}), checked, for method: kto."""
    return load_rows(path, "kto")


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
