"""The side-by-side evaluation report: report.json (everything) and report.md (table, per task, misses).

When the data marks each question's phrasing (`llmchat data make`), both files show the seen-phrasing and
unseen-phrasing splits separately, and the gain of every model over the first one on each.
"""

from __future__ import annotations

import json
from pathlib import Path

from llmchat.training.scoring import Scored

MISSES_SHOWN = 40  # per model in the markdown; report.json has all
PHRASINGS = ("seen", "unseen")
EXAMPLE_FIELDS = ("task", "phrasing", "template")  # copied from a record into report.json when present


def _cell(text: str, width: int = 60) -> str:
    flat = text.strip().replace("|", "\\|").replace("\n", " ⏎ ")
    return (flat[:width] + "…") if len(flat) > width else flat


def build_report(meta: dict, results: dict[str, dict]) -> dict:
    """Every model answered the same records: the records are listed once (`examples`), and each model's
    `answers` follow them in the same order."""
    first = next(iter(results.values()), {"rows": []})
    return {
        "meta": meta,
        "models": {model: {k: v for k, v in r.items() if k != "rows"} for model, r in results.items()},
        "examples": [_example_json(row) for row in first["rows"]],
        "answers": {model: [_answer_json(row) for row in r["rows"]] for model, r in results.items()},
    }


def _example_json(row: Scored) -> dict:
    return {
        "index": row.index,
        "instruction": row.record["instruction"],
        "input": row.record.get("input", ""),
        "reference": row.record["output"],
        **{field: row.record[field] for field in EXAMPLE_FIELDS if row.record.get(field)},
    }


def _answer_json(row: Scored) -> dict:
    return {
        "prediction": row.prediction,
        "exact": row.exact,
        "contains": row.contains,
        **({"error": row.error} if row.error else {}),
        **({"judge": row.record["_judge"]} if "_judge" in row.record else {}),
    }


def _has_phrasings(models: dict) -> bool:
    return any("by_phrasing" in r["summary"] for r in models.values())


def _phrasing_em(summary: dict, phrasing: str) -> float | str:
    return summary.get("by_phrasing", {}).get(phrasing, {}).get("exact_match", "–")


def _summary_table(meta: dict, models: dict) -> list[str]:
    split = _has_phrasings(models)
    head = "| model | style | exact match % |" + (" seen phrasings | unseen phrasings |" if split else "")
    head += " contains % | eval loss | perplexity |" + (" judge (1-5) |" if meta.get("judge") else "")
    lines = [head, "|" + "---|" * head.count(" |")]
    for name, result in models.items():
        summary, loss = result["summary"], result.get("loss") or {}
        row = f"| {name} | {result['prompt_style']} | {summary['exact_match']} |"
        if split:
            row += f" {_phrasing_em(summary, 'seen')} | {_phrasing_em(summary, 'unseen')} |"
        row += f" {summary['contains_match']} | {loss.get('eval_loss', '–')} | {loss.get('perplexity', '–')} |"
        if meta.get("judge"):
            row += f" {result.get('judge_mean', '–')} |"
        lines.append(row)
    return lines


def phrasing_gains(models: dict) -> dict[str, dict[str, float]]:
    """Exact-match points each model gains over the first one: overall and on each phrasing split."""
    names = list(models)
    if len(names) < 2:
        return {}
    base = models[names[0]]["summary"]
    gains = {}
    for name in names[1:]:
        summary = models[name]["summary"]
        gain = {"all": round(summary["exact_match"] - base["exact_match"], 1)}
        for phrasing in PHRASINGS:
            ours, theirs = _phrasing_em(summary, phrasing), _phrasing_em(base, phrasing)
            if isinstance(ours, float) and isinstance(theirs, float):
                gain[phrasing] = round(ours - theirs, 1)
        gains[name] = gain
    return gains


def _gain_lines(models: dict) -> list[str]:
    gains = phrasing_gains(models)
    if not gains or not _has_phrasings(models):
        return []
    first = next(iter(models))
    lines = [
        "",
        f"## Exact-match gain over {first} (points)",
        "",
        "| model | all | seen phrasings | unseen phrasings |",
        "|---|---|---|---|",
    ]
    for name, gain in gains.items():
        lines.append(
            f"| {name} | {gain['all']:+.1f} | "
            + " | ".join(f"{gain[p]:+.1f}" if p in gain else "–" for p in PHRASINGS)
            + " |"
        )
    sizes = next(r["summary"]["by_phrasing"] for r in models.values() if "by_phrasing" in r["summary"])
    lines += [
        "",
        (
            "Seen: questions asked in one of the training phrasings (not the same questions); unseen: asked "
            f"in held-out phrasings no training example used (n = {sizes.get('seen', {}).get('n', 0)} seen, "
            f"{sizes.get('unseen', {}).get('n', 0)} unseen)."
        ),
    ]
    return lines


def _task_cell(entry: dict | None, split: bool) -> str:
    if entry is None:
        return "–"
    if not split or "by_phrasing" not in entry:
        return str(entry["exact_match"])
    return " / ".join(str(entry["by_phrasing"].get(p, {}).get("exact_match", "–")) for p in PHRASINGS)


def _task_lines(models: dict) -> list[str]:
    tasks = sorted({t for r in models.values() for t in r["summary"]["by_task"]})
    if not tasks:
        return []
    names, split = list(models), _has_phrasings(models)
    title = "## Exact match % by task" + (" (seen / unseen phrasings)" if split else "")
    lines = ["", title, "", "| task | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for task in tasks:
        entries = [models[m]["summary"]["by_task"].get(task) for m in names]
        n = next(e["n"] for e in entries if e is not None)
        lines.append(f"| {task} | {n} | " + " | ".join(_task_cell(e, split) for e in entries) + " |")
    return lines


def render_markdown(report: dict) -> str:
    meta, models = report["meta"], report["models"]
    lines = [
        f"# Evaluation {meta['created']}",
        "",
        (
            f"Data: `{meta['data']}` ({meta['n']} examples), worker {meta['worker_url']}, greedy, "
            f"max_tokens {meta['max_tokens']}. Exact match is case-sensitive after trimming whitespace."
        ),
        "",
    ]
    lines += _summary_table(meta, models) + _gain_lines(models) + _task_lines(models)
    lines += ["", "## Misses", ""]
    for name, answers in report["answers"].items():
        misses = [(example, a) for example, a in zip(report["examples"], answers) if not a["exact"]]
        lines += [
            f"### {name}: {len(misses)} of {len(answers)} missed",
            "",
            "| # | phrasing | instruction | input | reference | answer |",
            "|---|---|---|---|---|---|",
        ]
        for example, miss in misses[:MISSES_SHOWN]:
            answer = f"error: {miss['error']}" if miss.get("error") else miss["prediction"]
            lines.append(
                f"| {example['index']} | {example.get('phrasing', '–')} | {_cell(example['instruction'], 45)} | "
                f"{_cell(example['input'], 25)} | {_cell(example['reference'], 25)} | {_cell(answer)} |"
            )
        if len(misses) > MISSES_SHOWN:
            lines.append(f"\n… and {len(misses) - MISSES_SHOWN} more in report.json")
        lines.append("")
    return "\n".join(lines)


def _dump(report: dict) -> str:
    """Indented JSON, but one line per example and per answer: readable, diffable and small."""

    def rows(items: list[dict], indent: str) -> str:
        lines = (indent + json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items)
        return "[\n" + ",\n".join(lines) + "\n" + indent[:-2] + "]"

    head = {k: report[k] for k in ("meta", "models")}
    text = json.dumps(head, indent=2, ensure_ascii=False)[:-2]
    answers = ",\n".join(
        f"    {json.dumps(model)}: {rows(items, '      ')}" for model, items in report["answers"].items()
    )
    return f'{text},\n  "examples": {rows(report["examples"], "    ")},\n  "answers": {{\n{answers}\n  }}\n}}\n'


def write_report(report: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(_dump(report), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return out
