"""Bad data files fail with the file, the line (or item) and the field; good ones split deterministically."""

import json

import pytest

from llmchat.training.data import DataError, check_text, detect_format, load_examples, load_kto, split_examples
from tests.training.cli_helper import run_cli

GOOD = {"instruction": "Say hi.", "input": "", "output": "hi"}


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_missing_field_names_file_line_and_field(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(GOOD), json.dumps(GOOD), json.dumps({"instruction": "x"})])
    with pytest.raises(DataError) as caught:
        load_examples(path)
    assert (caught.value.line, caught.value.field) == (3, "output")
    assert str(caught.value).startswith(f"{path}:3: field 'output'")


def test_wrong_type_and_empty_value(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps({**GOOD, "input": 5})])
    with pytest.raises(DataError, match=r"d\.jsonl:1: field 'input': must be a string, got int"):
        load_examples(path)
    path = write_lines(tmp_path / "e.jsonl", [json.dumps(GOOD), "", json.dumps({**GOOD, "output": "  "})])
    with pytest.raises(DataError, match=r"e\.jsonl:3: field 'output': is empty"):
        load_examples(path)


def test_invalid_json_line(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(GOOD), '{"instruction": "x", '])
    with pytest.raises(DataError, match=r"d\.jsonl:2: not valid JSON"):
        load_examples(path)


def test_json_list_reports_item_number(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([GOOD, GOOD, ["not", "an", "object"]]), encoding="utf-8")
    with pytest.raises(DataError, match=r"alpaca\.json:3: expected an object"):
        load_examples(path)
    path.write_text(json.dumps([GOOD, {"instruction": "x", "input": None, "output": "y"}]), encoding="utf-8")
    assert load_examples(path)[1]["input"] == ""  # alpaca-cleaned style null input is accepted as empty


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="holds no records"):
        load_examples(write_lines(tmp_path / "empty.jsonl", [""]))
    with pytest.raises(DataError, match="no such file"):
        load_examples(tmp_path / "nope.jsonl")


def test_check_command_prints_the_error_and_exits_2(tmp_path, capsys):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps({"output": "x"})])
    assert run_cli(["data", "check", str(path)]) == 2
    assert f"{path}:1: field 'instruction': is missing" in capsys.readouterr().err


def test_finetune_with_bad_data_fails_before_loading_a_model(tmp_path, capsys):
    path = write_lines(tmp_path / "d.jsonl", [json.dumps(GOOD), json.dumps({"instruction": "x", "output": 3})])
    code = run_cli(
        [
            "finetune",
            "--config",
            "configs/train/smollm2-lora.yaml",
            "--set",
            f"data={path}",
            "--set",
            f"output_dir={tmp_path / 'run'}",
        ]
    )
    assert code == 2
    assert f"{path}:2: field 'output': must be a string" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_split_is_seeded_disjoint_and_sized():
    records = [{"instruction": f"q{i}", "input": "", "output": str(i)} for i in range(100)]
    first = split_examples(records, validation=0.1, test=15, seed=1)
    assert (len(first.train), len(first.validation), len(first.test)) == (75, 10, 15)
    assert first == split_examples(records, validation=0.1, test=15, seed=1)
    assert first.test != split_examples(records, validation=0.1, test=15, seed=2).test
    ids = [r["instruction"] for part in (first.train, first.validation, first.test) for r in part]
    assert sorted(ids) == sorted(r["instruction"] for r in records)
    with pytest.raises(ValueError, match="leave no training examples"):
        split_examples(records, validation=50, test=50, seed=0)


def test_csv_rows_are_checked_with_their_line_numbers(tmp_path):
    good = 'instruction,input,output\nSay hi.,,hi\n"Add, please.","1, 2",3\n'
    path = tmp_path / "d.csv"
    path.write_text(good, encoding="utf-8")
    assert [r["input"] for r in load_examples(path)] == ["", "1, 2"]
    path.write_text(good + "Say bye.,,\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.csv:4: field 'output': is empty"):
        load_examples(path)
    path.write_text("instruction,answer\nSay hi.,hi\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.csv:1: field 'output': is not a column of the header"):
        load_examples(path)


def test_kto_rows_need_a_true_or_false_label(tmp_path):
    rows = [
        {"prompt": "2 + 2?", "completion": "4", "label": True},
        {"prompt": "2 + 2?", "completion": "5", "label": False},
    ]
    path = write_lines(tmp_path / "k.jsonl", [json.dumps(r) for r in rows])
    assert [r["label"] for r in load_kto(path)] == [True, False]
    path = write_lines(tmp_path / "b.jsonl", [json.dumps({**rows[0], "label": "yes"})])
    with pytest.raises(DataError, match=r"b\.jsonl:1: field 'label': must be true or false"):
        load_kto(path)
    csv_path = tmp_path / "k.csv"
    csv_path.write_text("prompt,completion,label\n2 + 2?,4,up\n2 + 2?,5,down\n", encoding="utf-8")
    assert [r["label"] for r in load_kto(csv_path)] == [True, False]
    assert [detect_format(r) for r in (rows[0], GOOD, {"prompt": "p", "chosen": "a", "rejected": "b"})] == [
        "kto",
        "alpaca",
        "preference",
    ]


def test_check_text_reads_on_and_returns_every_error_with_its_line():
    text = "\n".join([json.dumps(GOOD), json.dumps({"instruction": "x"}), "{oops", json.dumps(GOOD), json.dumps([1])])
    records, errors = check_text("upload.jsonl", text, "alpaca")
    assert len(records) == 2
    assert [(e.line, e.field) for e in errors] == [(2, "output"), (3, None), (5, None)]
    records, errors = check_text("upload.jsonl", "\n\n", "alpaca")
    assert records == [] and "holds no records" in str(errors[0])
