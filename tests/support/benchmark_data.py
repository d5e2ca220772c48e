"""An ARC-Easy-style benchmark file for tests: six questions the tiny model can be scored on, written in ARC's own
columns (`DIR/arc_easy/test.jsonl`), with the answers a test chooses."""

from __future__ import annotations

import json
from pathlib import Path

QUESTIONS = [
    ("What is the capital of France?", ["Paris", "Berlin", "dog", "seven"]),
    ("What jumps over the lazy dog?", ["the fox", "a car", "nine", "Germany"]),
    ("Which number comes after four?", ["five", "ten", "Hello", "emoji"]),
    ("Who are you?", ["a tiny model", "the capital", "one two", "accents"]),
    ("What does the instruction say?", ["Say hello", "brown", "three", "Paris"]),
    ("What is Berlin?", ["the capital of Germany", "a fox", "six", "lazy"]),
]
LABELS = ["A", "B", "C", "D"]


def write_arc(folder: Path, answers: list[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": f"q{n}", "question": q, "choices": {"text": c, "label": LABELS}, "answerKey": LABELS[a]}
        for n, ((q, c), a) in enumerate(zip(QUESTIONS, answers))
    ]
    (folder / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
