"""The datasets the Data page lists: the generated demo sets (data/generated/), `from-chats` exports (data/chats/)
and uploads (data/uploads/), each a JSON Lines, JSON or CSV file in one of the three formats of data.py.

A file is read with the same loader `llmchat finetune` uses for its format, so what the page says about a file
(its rows, its first error, its split) is what a run would get.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmchat.training.data import FORMATS, DataError, check_text, detect_format

SOURCES = ("generated", "chats", "uploads")  # folders under data/, in the order the page lists them
SUFFIXES = (".jsonl", ".json", ".csv")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PREVIEW_ROWS = 20
MAX_ERRORS = 100  # an upload's errors listed; the count says how many there were in all


class UploadRejected(ValueError):
    """An upload with bad rows; nothing was saved. `errors` each name their line and field."""

    def __init__(self, errors: list[DataError]):
        self.errors = errors
        super().__init__(f"{len(errors)} bad row(s); the first: {errors[0]}")


@dataclass(frozen=True)
class Dataset:
    source: str
    path: Path
    format: str
    rows: list[dict]
    errors: list[DataError]

    @property
    def id(self) -> str:
        return f"{self.source}/{self.path.name}"

    def summary(self) -> dict[str, Any]:
        stat = self.path.stat()
        return {
            "id": self.id,
            "source": self.source,
            "name": self.path.name,
            "format": self.format,
            "rows": len(self.rows),
            "bytes": stat.st_size,
            "modified": stat.st_mtime,
            "error": error_json(self.errors[0]) if self.errors else None,
        }


def error_json(error: DataError) -> dict[str, Any]:
    return {"line": error.line, "field": error.field, "message": error.reason}


def describe_error(error: DataError) -> str:
    """`line 3, field 'output': is missing`: where in the file and what, without the file's path."""
    where = [f"line {error.line}"] if error.line is not None else []
    where += [f"field {error.field!r}"] if error.field else []
    return f"{', '.join(where)}: {error.reason}" if where else error.reason


def _first_record(name: str, text: str) -> dict:
    """The first row as a mapping (a CSV: its header), to tell the format by its fields."""
    if name.endswith(".csv"):
        return dict.fromkeys(next(csv.reader(io.StringIO(text)), []), "")
    try:
        if text.lstrip().startswith("["):
            first = (json.loads(text) or [{}])[0]
        else:
            first = json.loads(next((line for line in text.splitlines() if line.strip()), "{}"))
    except ValueError:
        return {}
    return first if isinstance(first, dict) else {}


def read_dataset(source: str, path: Path, format_name: str | None = None) -> Dataset:
    text = path.read_text(encoding="utf-8", errors="replace")
    format_name = format_name or detect_format(_first_record(path.name, text))
    rows, errors = check_text(str(path), text, format_name)
    return Dataset(source, path, format_name, rows, errors)


def dataset_path(root: Path, dataset_id: str) -> tuple[str, Path]:
    """(source, file) of an id such as `uploads/mine.csv`; ValueError for anything else (no path escapes)."""
    source, _, name = dataset_id.partition("/")
    if source not in SOURCES or not NAME.match(name) or not name.endswith(SUFFIXES):
        raise ValueError(f"no dataset {dataset_id!r}: expected <{'|'.join(SOURCES)}>/<name>.jsonl|.json|.csv")
    path = root / source / name
    if not path.is_file():
        raise FileNotFoundError(f"no dataset {dataset_id!r}")
    return source, path


def list_datasets(root: Path) -> list[Dataset]:
    found = []
    for source in SOURCES:
        folder = root / source
        if folder.is_dir():
            found += [
                read_dataset(source, path)
                for path in sorted(folder.iterdir())
                if path.is_file() and path.suffix in SUFFIXES and NAME.match(path.name)
            ]
    return found


def save_upload(root: Path, name: str, text: str, format_name: str) -> Dataset:
    """Check every row first; save `uploads/<name>` only when all are good (else UploadRejected, nothing saved)."""
    if format_name not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if not NAME.match(name) or not name.endswith(SUFFIXES):
        raise ValueError("name: letters, digits, '.', '_' or '-', ending in .jsonl, .json or .csv")
    target = root / "uploads" / name
    if target.exists():
        raise FileExistsError(f"uploads/{name} exists already: pick another name")
    rows, errors = check_text(name, text, format_name)
    if errors:
        raise UploadRejected(errors)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)  # a reader never lists half a file
    return Dataset("uploads", target, format_name, rows, [])
