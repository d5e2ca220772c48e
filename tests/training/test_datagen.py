import json
import re

from llmchat.training.data import load_examples
from llmchat.training.datagen import CAPITALS, TASKS, make_examples, write_jsonl
from tests.training.cli_helper import run_cli


def test_same_seed_same_examples_other_seed_differs():
    assert make_examples(300, seed=5) == make_examples(300, seed=5)
    assert make_examples(300, seed=5) != make_examples(300, seed=6)


def test_examples_are_distinct_cover_every_task_and_have_short_answers():
    examples = make_examples(1000, seed=0)
    keys = {(e["instruction"], e["input"]) for e in examples}
    assert len(keys) == len(examples) == 1000
    assert {e["task"] for e in examples} == set(TASKS)
    assert max(len(e["output"]) for e in examples) <= 20


def test_answers_are_correct():
    for example in make_examples(600, seed=1):
        task, instruction, given, answer = example["task"], example["instruction"], example["input"], example["output"]
        if task in ("add", "subtract", "multiply"):
            a, op, b = re.match(r"What is (\d+) (\+|-|times) (\d+)\?", instruction).groups()
            expected = {"+": int(a) + int(b), "-": int(a) - int(b), "times": int(a) * int(b)}[op]
            assert answer == str(expected)
        elif task == "sort":
            assert answer == ", ".join(map(str, sorted(int(x) for x in given.split(", "))))
        elif task == "largest":
            assert answer == str(max(int(x) for x in given.split(", ")))
        elif task == "uppercase":
            assert answer == given.upper()
        elif task == "reverse":
            assert answer == given[::-1]
        elif task == "count_letters":
            assert answer == str(len(given))
        elif task == "capital":
            assert CAPITALS[re.search(r"of (.+?)[?.]$", instruction).group(1)] == answer


def test_data_make_and_check_commands(tmp_path, capsys):
    out = tmp_path / "tasks.jsonl"
    assert run_cli(["data", "make", "--out", str(out), "--n", "150", "--seed", "7"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 150 and all(json.loads(line)["output"] for line in lines)
    assert load_examples(out) == make_examples(150, seed=7)
    assert run_cli(["data", "check", str(out)]) == 0
    assert "150 valid records" in capsys.readouterr().out


def test_written_file_is_byte_identical_for_a_seed(tmp_path):
    first = write_jsonl(make_examples(200, seed=2), tmp_path / "a.jsonl").read_bytes()
    second = write_jsonl(make_examples(200, seed=2), tmp_path / "b.jsonl").read_bytes()
    assert first == second
