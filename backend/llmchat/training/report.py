"""The side-by-side evaluation report: report.json (everything) and report.md (table, per task, misses)."""

from __future__ import annotations

import json
from pathlib import Path

from llmchat.training.scoring import Scored

MISSES_SHOWN = 40  # per model in the markdown; report.json has all


def _cell(text: str, width: int = 60) -> str:
    flat = text.strip().replace("|", "\\|").replace("\n", " ⏎ ")
    return (flat[:width] + "…") if len(flat) > width else flat


def build_report(meta: dict, results: dict[str, dict]) -> dict:
    return {"meta": meta, "models": {model: {k: v for k, v in r.items() if k != "rows"} for model, r in results.items()},
            "answers": {model: [_row_json(row) for row in r["rows"]] for model, r in results.items()}}


def _row_json(row: Scored) -> dict:
    return {"index": row.index, "instruction": row.record["instruction"], "input": row.record.get("input", ""),
            "reference": row.record["output"], "task": row.record.get("task"), "prediction": row.prediction,
            "exact": row.exact, "contains": row.contains, "error": row.error,
            **({"judge": row.record["_judge"]} if "_judge" in row.record else {})}


def render_markdown(report: dict) -> str:
    meta, models = report["meta"], report["models"]
    lines = [f"# Evaluation {meta['created']}", "",
             f"Data: `{meta['data']}` ({meta['n']} examples), worker {meta['worker_url']}, greedy, "
             f"max_tokens {meta['max_tokens']}. Exact match is case-sensitive after trimming whitespace.", "",
             "| model | style | exact match % | contains % | eval loss | perplexity |"
             + (" judge (1-5) |" if meta.get("judge") else ""),
             "|---|---|---|---|---|---|" + ("---|" if meta.get("judge") else "")]
    for name, result in models.items():
        summary, loss = result["summary"], result.get("loss") or {}
        row = (f"| {name} | {result['prompt_style']} | {summary['exact_match']} | {summary['contains_match']} | "
               f"{loss.get('eval_loss', '–')} | {loss.get('perplexity', '–')} |")
        if meta.get("judge"):
            row += f" {result.get('judge_mean', '–')} |"
        lines.append(row)
    tasks = sorted({t for r in models.values() for t in r["summary"]["by_task"]})
    if tasks:
        names = list(models)
        lines += ["", "## Exact match % by task", "", "| task | n | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for task in tasks:
            cells = [str(models[m]["summary"]["by_task"].get(task, {}).get("exact_match", "–")) for m in names]
            n = next(models[m]["summary"]["by_task"][task]["n"] for m in names if task in models[m]["summary"]["by_task"])
            lines.append(f"| {task} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "## Misses", ""]
    for name, answers in report["answers"].items():
        misses = [a for a in answers if not a["exact"]]
        lines += [f"### {name}: {len(misses)} of {len(answers)} missed", "",
                  "| # | instruction | input | reference | answer |", "|---|---|---|---|---|"]
        for miss in misses[:MISSES_SHOWN]:
            answer = f"error: {miss['error']}" if miss["error"] else miss["prediction"]
            lines.append(f"| {miss['index']} | {_cell(miss['instruction'], 45)} | {_cell(miss['input'], 25)} | "
                         f"{_cell(miss['reference'], 25)} | {_cell(answer)} |")
        if len(misses) > MISSES_SHOWN:
            lines.append(f"\n… and {len(misses) - MISSES_SHOWN} more in report.json")
        lines.append("")
    return "\n".join(lines)


def write_report(report: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return out
