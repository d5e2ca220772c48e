"""lm-evaluation-harness tasks read from local files: no hub is reachable, so each task's data comes from a folder
of JSONL files in the dataset's own columns, or from the local `datasets` cache.

`--data-dir DIR` holds `DIR/<task>/<split>.jsonl` for the splits the task uses (arc_easy: test.jsonl; hellaswag:
validation.jsonl; mmlu: test.jsonl with a `subject` column, optional dev.jsonl for few-shot examples). A task found
there is the harness's own task config (prompt, choices, target, metrics unchanged) with its dataset pointed at the
files (`dataset_path: json`, `data_files`); a task not there is loaded by name, which reads the datasets cache
(HF_DATASETS_OFFLINE). When neither has it, the error names the task and the file it looked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPLIT_KEYS = ("training_split", "validation_split", "test_split", "fewshot_split")
MMLU = "mmlu"
# the standard set the run page offers (the CLI's --tasks takes any harness task)
STANDARD_TASKS = ("arc_easy", "arc_challenge", "hellaswag", MMLU)
BENCHMARK_FOLDER = "benchmarks"  # data/benchmarks/<task>/<split>.jsonl: where the web app's evaluations read


class BenchmarkDataError(ValueError):
    """A task's data is in neither the data folder nor the datasets cache; the message says where to put it."""


def task_manager():
    from lm_eval.tasks import TaskManager

    return TaskManager()


def _task_config(manager, name: str) -> dict[str, Any]:
    """The harness's own config of a registered task (its `include`s resolved, `!function`s loaded)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    entry = manager.task_index.get(name)
    if entry is None or entry.yaml_path is None:
        raise BenchmarkDataError(f"lm-evaluation-harness has no task named {name!r}")
    return dict(load_yaml(entry.yaml_path, resolve_func=True))


def eval_split(config: dict[str, Any]) -> str:
    """The split a task is scored on: its test split, else its validation split."""
    return config.get("test_split") or config.get("validation_split")


def _pointed_at(config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The config with its dataset read from `folder/<split>.jsonl`; splits without a file are dropped."""
    files = {}
    for key in SPLIT_KEYS:
        split = config.get(key)
        if split and (folder / f"{split}.jsonl").is_file():
            files[split] = str(folder / f"{split}.jsonl")
    pointed = {**config, "dataset_path": "json", "dataset_name": None, "dataset_kwargs": {"data_files": files}}
    for key in SPLIT_KEYS:
        if pointed.get(key) and pointed[key] not in files:
            pointed[key] = None
    for key in ("tag", "group"):
        pointed.pop(key, None)
    return pointed


def _subjects(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return sorted({json.loads(line)["subject"] for line in lines if line.strip()})


def _of_subject(subject: str):
    def keep(dataset):
        return dataset.filter(lambda row: row["subject"] == subject)

    return keep


def _mmlu_specs(manager, folder: Path) -> list[dict[str, Any]]:
    """One harness subtask per subject in the file (mmlu_<subject>), each reading its own rows."""
    specs = []
    for subject in _subjects(folder / "test.jsonl"):
        config = _pointed_at(_task_config(manager, f"mmlu_{subject}"), folder)
        specs.append({**config, "process_docs": _of_subject(subject)})
    if not specs:
        raise BenchmarkDataError(f"{folder / 'test.jsonl'} has no rows")
    return specs


def expected_file(manager, name: str, data_dir: Path | None) -> str:
    folder = (data_dir or Path("DIR")) / name
    if name == MMLU:
        return str(folder / "test.jsonl")
    return str(folder / f"{eval_split(_task_config(manager, name))}.jsonl")


def task_specs(manager, name: str, data_dir: Path | None) -> list[str | dict[str, Any]]:
    """What to hand the harness for one task: configs pointed at the data folder's files, or the task's name."""
    folder = data_dir / name if data_dir else None
    if name == MMLU and folder and (folder / "test.jsonl").is_file():
        return _mmlu_specs(manager, folder)
    if folder and folder.is_dir():
        config = _task_config(manager, name)
        split = eval_split(config)
        if not (folder / f"{split}.jsonl").is_file():
            raise BenchmarkDataError(f"task {name}: {folder / f'{split}.jsonl'} is missing (the split it is scored on)")
        return [_pointed_at(config, folder)]
    return [name]


def load_tasks(manager, names: list[str], data_dir: Path | None) -> dict[str, list]:
    """{task name: the harness's Task objects for it} (several for mmlu: one per subject)."""
    loaded = {}
    for name in names:
        specs = task_specs(manager, name, data_dir)
        try:
            loaded[name] = list(manager.load(specs)["tasks"].values())
        except BenchmarkDataError:
            raise
        except Exception as exc:  # the harness could not read the dataset: not in the folder, not in the cache
            if specs != [name]:
                raise BenchmarkDataError(
                    f"task {name}: the files in {data_dir / name} could not be read: {exc}"
                ) from exc
            raise BenchmarkDataError(
                f"task {name}: no data. Put its split as JSONL in the dataset's own columns at "
                f"{expected_file(manager, name, data_dir)} (and pass --data-dir), or have the dataset in the local "
                f"datasets cache ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc
    return loaded
