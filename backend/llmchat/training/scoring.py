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
    return Scored(
        index,
        record,
        prediction,
        exact_match(prediction, record["output"]),
        contains_match(prediction, record["output"]),
        error,
    )


def _pct(values: list[bool]) -> float:
    return round(100.0 * sum(values) / len(values), 1) if values else 0.0


def _groups(rows: list[Scored], field: str) -> dict[str, list[Scored]]:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for row in rows:
        if row.record.get(field):
            groups[row.record[field]].append(row)
    return dict(sorted(groups.items()))


def summarize(rows: list[Scored]) -> dict:
    """Percentages overall, per task and per phrasing (when the records carry `task` / `phrasing` fields).

    `by_phrasing` splits the generated test set into questions asked in the training phrasings ("seen") and in
    held-out ones ("unseen"): the gap between them is what a run learned about the wording rather than the task.
    """
    summary = {
        "n": len(rows),
        "exact_match": _pct([r.exact for r in rows]),
        "contains_match": _pct([r.contains for r in rows]),
        "errors": sum(1 for r in rows if r.error),
        "by_task": {},
    }
    for task, items in _groups(rows, "task").items():
        summary["by_task"][task] = {"n": len(items), "exact_match": _pct([r.exact for r in items])}
        by_phrasing = _groups(items, "phrasing")
        if by_phrasing:
            summary["by_task"][task]["by_phrasing"] = {
                phrasing: {"n": len(group), "exact_match": _pct([r.exact for r in group])}
                for phrasing, group in by_phrasing.items()
            }
    by_phrasing = _groups(rows, "phrasing")
    if by_phrasing:
        summary["by_phrasing"] = {
            phrasing: {
                "n": len(group),
                "exact_match": _pct([r.exact for r in group]),
                "contains_match": _pct([r.contains for r in group]),
            }
            for phrasing, group in by_phrasing.items()
        }
    return summary
