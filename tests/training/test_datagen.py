import json
import re

from llmchat.training.data import load_examples, load_preferences, split_examples
from llmchat.training.datagen import (
    CAPITALS,
    CONVERSIONS,
    OPPOSITES,
    TASKS,
    WORDS,
    make_examples,
    make_preferences,
    write_jsonl,
)
from llmchat.training.phrasings import SEEN, UNSEEN
from tests.training.cli_helper import run_cli


def _pattern(text: str) -> str:
    """A phrasing's format string as a regex: each {slot} matches any text."""
    return "".join(re.escape(part) if i % 2 == 0 else ".+?" for i, part in enumerate(re.split(r"\{(\w+)\}", text)))


def _matches(record: dict, templates) -> bool:
    return any(
        re.fullmatch(_pattern(t.instruction), record["instruction"])
        and re.fullmatch(_pattern(t.input), record["input"])
        for t in templates
    )


def test_every_task_has_at_least_eight_training_phrasings_and_held_out_ones_of_both_shapes():
    assert set(SEEN) == set(UNSEEN) == set(TASKS)
    for task in TASKS:
        assert len(SEEN[task]) >= 8 and len(set(SEEN[task])) == len(SEEN[task]), task
        assert len(UNSEEN[task]) >= 2 and set(SEEN[task]).isdisjoint(UNSEEN[task]), task
        for templates in (SEEN[task], UNSEEN[task]):
            # both shapes: the question in the instruction alone, and data (or the question) in the input
            assert any(not t.input for t in templates) and any(t.input for t in templates), task


def test_generated_data_has_both_input_shapes_in_both_phrasings_for_every_task():
    examples = make_examples(1200, seed=0, unseen=240)
    for task in TASKS:
        for phrasing in ("seen", "unseen"):
            rows = [e for e in examples if e["task"] == task and e["phrasing"] == phrasing]
            assert any(r["input"] for r in rows) and any(not r["input"] for r in rows), (task, phrasing)
    assert len({e["template"] for e in examples if e["phrasing"] == "seen"}) == sum(map(len, SEEN.values()))


def test_held_out_phrasings_never_reach_train_or_validation():
    examples = make_examples(600, seed=4, unseen=60)
    split = split_examples(examples, validation=30, test=50, seed=42)
    unseen_templates = [t for templates in UNSEEN.values() for t in templates]
    for record in split.train + split.validation:
        # judged on the text itself, not on the generator's tags
        assert _matches(record, SEEN[record["task"]]), record
        assert not _matches(record, unseen_templates), record
    test_unseen = [r for r in split.test if r["phrasing"] == "unseen"]
    assert len(test_unseen) == 60 and len(split.test) == 50 + 60
    assert all(_matches(r, UNSEEN[r["task"]]) and not _matches(r, SEEN[r["task"]]) for r in test_unseen)
    assert len(split.train) == 600 - 50 - 30
    # seeded: the same split again, and the test split mixes both kinds (so --limit takes both)
    assert split_examples(examples, 30, 50, 42) == split
    assert {r["phrasing"] for r in split.test[:20]} == {"seen", "unseen"}


def test_same_seed_same_examples_other_seed_differs():
    assert make_examples(300, seed=5) == make_examples(300, seed=5)
    assert make_examples(300, seed=5) != make_examples(300, seed=6)


def test_examples_are_distinct_cover_every_task_and_have_short_answers():
    examples = make_examples(1000, seed=0, unseen=100)
    keys = {(e["instruction"], e["input"]) for e in examples}
    assert len(keys) == len(examples) == 1100
    assert sum(e["phrasing"] == "unseen" for e in examples) == 100
    assert {e["task"] for e in examples} == set(TASKS)
    assert max(len(e["output"]) for e in examples) <= 20


def _one(found: list[str], text: str) -> str:
    assert len(found) == 1, (found, text)
    return found[0]


def _expected(example: dict) -> str:
    """The right answer, worked out again from the question's text."""
    task, text = example["task"], example["instruction"] + " " + example["input"]
    numbers = [int(x) for x in re.findall(r"\d+", text)]
    if task == "add":
        return str(sum(numbers))
    if task == "subtract":
        return str(max(numbers) - min(numbers))
    if task == "multiply":
        return str(numbers[0] * numbers[1])
    if task == "convert":
        amount = re.compile(rf"\b{numbers[0]} (\w+)")
        factor = _one(
            [
                f
                for s, t, f in CONVERSIONS
                if amount.search(text).group(1) == s and re.search(rf"\b{t}\b", amount.sub("", text))
            ],
            text,
        )
        return str(numbers[0] * factor)
    if task == "sort":
        return ", ".join(map(str, sorted(numbers)))
    if task == "largest":
        return str(max(numbers))
    if task == "capital":
        return CAPITALS[_one([c for c in CAPITALS if re.search(rf"\b{c}\b", text)], text)]
    if task == "opposite":
        return OPPOSITES[_one([w for w in OPPOSITES if re.search(rf"\b{w}\b", text)], text)]
    word = _one([w for w in WORDS if re.search(rf"\b{w}\b", text)], text)
    return {"uppercase": word.upper(), "reverse": word[::-1], "count_letters": str(len(word)), "first_letter": word[0]}[
        task
    ]


def test_answers_are_correct():
    for example in make_examples(600, seed=1, unseen=120):
        assert example["output"] == _expected(example), example


def test_preference_rows_prefer_the_right_short_answer():
    rows = make_preferences(40, seed=2)
    assert len(rows) == 40 and rows == make_preferences(40, seed=2)
    for row in rows:
        example = {"task": row["task"], "instruction": row["prompt"], "input": row["input"]}
        assert row["chosen"] == _expected(example) != row["rejected"]
    assert any(r["rejected"].startswith("The answer is") for r in rows)


def test_data_make_and_check_commands(tmp_path, capsys):
    out = tmp_path / "tasks.jsonl"
    assert run_cli(["data", "make", "--out", str(out), "--n", "150", "--unseen", "30", "--seed", "7"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 180 and all(json.loads(line)["output"] for line in lines)
    assert load_examples(out) == make_examples(150, seed=7, unseen=30)
    assert run_cli(["data", "check", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "180 valid records" in printed and "seen 150, unseen 30" in printed
    prefs = tmp_path / "prefs.jsonl"
    assert run_cli(["data", "make", "--preferences", "--out", str(prefs), "--n", "12"]) == 0
    assert len(load_preferences(prefs)) == 12
    assert run_cli(["data", "check", "--preferences", str(prefs)]) == 0
    assert "12 valid preference rows" in capsys.readouterr().out


def test_written_file_is_byte_identical_for_a_seed(tmp_path):
    first = write_jsonl(make_examples(200, seed=2), tmp_path / "a.jsonl").read_bytes()
    second = write_jsonl(make_examples(200, seed=2), tmp_path / "b.jsonl").read_bytes()
    assert first == second
