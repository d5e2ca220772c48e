"""Exact match is case-sensitive after trimming; contains gives a verbose answer credit; reports list the misses."""

from llmchat.training.judge import parse_grade
from llmchat.training.report import build_report, render_markdown
from llmchat.training.scoring import contains_match, exact_match, score, summarize


def test_exact_and_contains():
    assert exact_match("  42\n", "42") and not exact_match("42.", "42")
    assert not exact_match("paris", "Paris")  # case-sensitive
    assert contains_match("The answer is 42.", "42") and not contains_match("forty-two", "42")


def test_summary_per_task_and_report_lists_misses():
    records = [
        {"instruction": "What is 2 + 2?", "input": "", "output": "4", "task": "add"},
        {"instruction": "What is 3 + 3?", "input": "", "output": "6", "task": "add"},
        {"instruction": "Write this word in uppercase.", "input": "cat", "output": "CAT", "task": "uppercase"},
    ]
    rows = [score(0, records[0], "4"), score(1, records[1], "It is 6"), score(2, records[2], "", error="HTTP 500")]
    summary = summarize(rows)
    assert summary["exact_match"] == 33.3 and summary["contains_match"] == 66.7 and summary["errors"] == 1
    assert summary["by_task"] == {"add": {"n": 2, "exact_match": 50.0}, "uppercase": {"n": 1, "exact_match": 0.0}}
    meta = {"created": "now", "data": "d.jsonl", "n": 3, "worker_url": "http://w", "max_tokens": 8, "judge": None}
    report = build_report(meta, {"m": {"prompt_style": "alpaca", "summary": summary, "rows": rows, "loss": None}})
    markdown = render_markdown(report)
    assert "| m | alpaca | 33.3 | 66.7 |" in markdown
    assert "### m: 2 of 3 missed" in markdown and "It is 6" in markdown and "error: HTTP 500" in markdown


def _phrased(task: str, phrasing: str, output: str) -> dict:
    return {
        "instruction": f"q {task} {phrasing} {output}",
        "input": "",
        "output": output,
        "task": task,
        "phrasing": phrasing,
    }


def test_seen_and_unseen_phrasings_are_scored_and_reported_separately(tmp_path):
    import json

    from llmchat.training.report import phrasing_gains, write_report

    records = [
        _phrased("add", "seen", "4"),
        _phrased("add", "seen", "5"),
        _phrased("add", "unseen", "6"),
        _phrased("sort", "unseen", "1, 2"),
        _phrased("sort", "unseen", "3, 4"),
        _phrased("sort", "seen", "5, 6"),
    ]
    base = [score(i, r, "I think " + r["output"]) for i, r in enumerate(records)]  # right but verbose: no exact
    tuned_answers = ["4", "5", "7", "1, 2", "4, 3", "5, 6"]
    tuned = [score(i, r, a) for i, (r, a) in enumerate(zip(records, tuned_answers))]
    summary = summarize(tuned)
    assert summary["by_phrasing"] == {
        "seen": {"n": 3, "exact_match": 100.0, "contains_match": 100.0},
        "unseen": {"n": 3, "exact_match": 33.3, "contains_match": 33.3},
    }
    assert summary["by_task"]["sort"]["by_phrasing"] == {
        "seen": {"n": 1, "exact_match": 100.0},
        "unseen": {"n": 2, "exact_match": 50.0},
    }
    results = {
        name: {"prompt_style": style, "summary": summarize(rows), "rows": rows, "loss": None}
        for name, style, rows in (("base", "chat", base), ("tuned", "alpaca", tuned))
    }
    meta = {"created": "now", "data": "d.jsonl", "n": 6, "worker_url": "http://w", "max_tokens": 8, "judge": None}
    report = build_report(meta, results)
    assert phrasing_gains(report["models"]) == {"tuned": {"all": 66.7, "seen": 100.0, "unseen": 33.3}}
    markdown = render_markdown(report)
    assert "| tuned | alpaca | 66.7 | 100.0 | 33.3 | 66.7 |" in markdown
    assert "| base | chat | 0.0 | 0.0 | 0.0 | 100.0 |" in markdown
    assert "| tuned | +66.7 | +100.0 | +33.3 |" in markdown
    assert "| sort | 3 | 0.0 / 0.0 | 100.0 / 50.0 |" in markdown
    assert "| 4 | unseen | q sort unseen 3, 4 |" in markdown  # a miss names its phrasing
    written = json.loads((write_report(report, tmp_path) / "report.json").read_text())
    assert written["models"]["tuned"]["summary"]["by_phrasing"]["unseen"]["exact_match"] == 33.3
    assert [e["phrasing"] for e in written["examples"]] == [r["phrasing"] for r in records]
    assert [a["prediction"] for a in written["answers"]["tuned"]] == tuned_answers


def test_data_without_phrasings_has_no_split_columns():
    records = [{"instruction": "What is 2 + 2?", "input": "", "output": "4"}]
    rows = [score(0, records[0], "4")]
    meta = {"created": "now", "data": "d.jsonl", "n": 1, "worker_url": "http://w", "max_tokens": 8, "judge": None}
    markdown = render_markdown(
        build_report(
            meta,
            {
                "a": {"prompt_style": "chat", "summary": summarize(rows), "rows": rows},
                "b": {"prompt_style": "alpaca", "summary": summarize(rows), "rows": rows},
            },
        )
    )
    assert "unseen" not in markdown and "| a | chat | 100.0 | 100.0 | – | – |" in markdown


def test_judge_grade_parsing():
    assert parse_grade(" 4") == 4 and parse_grade("Score: 5/5") == 5 and parse_grade("none") is None
