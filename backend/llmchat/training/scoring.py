"""Scores for short answers: exact match (case-sensitive, whitespace-trimmed) and contains-match."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


def exact_match(prediction: str, reference: str) -> bool:
    return prediction.strip() == reference.strip()


def contains_match(prediction: str, reference: str) -> bool:
    return reference.strip() in prediction


@dataclass
class Scored:
    index: int
    record: dict
    prediction: str
    exact: bool
    contains: bool
    error: str | None = None


def score(index: int, record: dict, prediction: str, error: str | None = None) -> Scored:
    return Scored(index, record, prediction, exact_match(prediction, record["output"]),
                  contains_match(prediction, record["output"]), error)


def summarize(rows: list[Scored]) -> dict:
    """Percentages overall and per task (when the records carry a `task` field)."""
    def pct(values: list[bool]) -> float:
        return round(100.0 * sum(values) / len(values), 1) if values else 0.0

    by_task: dict[str, list[Scored]] = defaultdict(list)
    for row in rows:
        if row.record.get("task"):
            by_task[row.record["task"]].append(row)
    return {
        "n": len(rows),
        "exact_match": pct([r.exact for r in rows]),
        "contains_match": pct([r.contains for r in rows]),
        "errors": sum(1 for r in rows if r.error),
        "by_task": {task: {"n": len(items), "exact_match": pct([r.exact for r in items])}
                    for task, items in sorted(by_task.items())},
    }
