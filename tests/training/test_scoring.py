"""Exact match is case-sensitive after trimming; contains gives a verbose answer credit; reports list the misses."""

from llmchat.training.judge import parse_grade
from llmchat.training.report import build_report, render_markdown
from llmchat.training.scoring import contains_match, exact_match, score, summarize


def test_exact_and_contains():
    assert exact_match("  42\n", "42") and not exact_match("42.", "42")
    assert not exact_match("paris", "Paris")  # case-sensitive
    assert contains_match("The answer is 42.", "42") and not contains_match("forty-two", "42")


def test_summary_per_task_and_report_lists_misses():
    records = [{"instruction": "What is 2 + 2?", "input": "", "output": "4", "task": "add"},
               {"instruction": "What is 3 + 3?", "input": "", "output": "6", "task": "add"},
               {"instruction": "Write this word in uppercase.", "input": "cat", "output": "CAT", "task": "uppercase"}]
    rows = [score(0, records[0], "4"), score(1, records[1], "It is 6"), score(2, records[2], "", error="HTTP 500")]
    summary = summarize(rows)
    assert summary["exact_match"] == 33.3 and summary["contains_match"] == 66.7 and summary["errors"] == 1
    assert summary["by_task"] == {"add": {"n": 2, "exact_match": 50.0}, "uppercase": {"n": 1, "exact_match": 0.0}}
    meta = {"created": "now", "data": "d.jsonl", "n": 3, "worker_url": "http://w", "max_tokens": 8, "judge": None}
    report = build_report(meta, {"m": {"prompt_style": "alpaca", "summary": summary, "rows": rows, "loss": None}})
    markdown = render_markdown(report)
    assert "| m | alpaca | 33.3 | 66.7 |" in markdown
    assert "### m: 2 of 3 missed" in markdown and "It is 6" in markdown and "error: HTTP 500" in markdown


def test_judge_grade_parsing():
    assert parse_grade(" 4") == 4 and parse_grade("Score: 5/5") == 5 and parse_grade("none") is None
