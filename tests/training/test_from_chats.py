"""`llmchat data from-chats`: rows from real stored chats (every IP's), and the report of what was skipped and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from llmchat.store import ChatStore, FeedbackStore, open_database
from llmchat.training.data import load_examples, load_kto, load_preferences
from tests.training.cli_helper import run_cli
from tests.training.conftest import TINY_ID

ALICE, BOB = "10.0.0.1", "10.0.0.2"


def exchange(
    store: ChatStore,
    conversation_id: str,
    prompt: str,
    reply: str,
    *,
    model: str = "m-chat",
    column: int = 0,
    parent_id: int | None = None,
    params: dict | None = None,
):
    user = store.add_message(conversation_id, "user", prompt, model=model, column=column, parent_id=parent_id)
    answer = store.add_message(
        conversation_id,
        "assistant",
        reply,
        model=model,
        column=column,
        parent_id=user.id,
        params=params or {"memory_window": 10, "system_prompt": ""},
    )
    return answer


@pytest.fixture
def chats(tmp_path) -> str:
    """A database with rated, corrected, unrated and voted replies from two IPs."""
    url = f"sqlite:///{tmp_path / 'chats.db'}"
    database = open_database(url)
    store, feedback = ChatStore(database), FeedbackStore(database)
    math = store.create_conversation(ALICE, "math", "m-chat").id
    wrong = exchange(store, math, "What is 2 + 2?", "5")
    feedback.set_feedback(ALICE, wrong.id, "down", "4")
    right = exchange(
        store,
        math,
        "And 3 + 3?",
        "6",
        parent_id=wrong.id,
        params={"memory_window": 10, "system_prompt": "Answer with a number."},
    )
    feedback.set_feedback(ALICE, right.id, "up", None)
    shrug = exchange(store, math, "And 4 + 4?", "I do not know.", parent_id=right.id)
    feedback.set_feedback(ALICE, shrug.id, "down", None)  # downvoted, no better answer
    other = store.create_conversation(BOB, "hello", "m-base").id
    exchange(store, other, "Hello!", "Hi.", model="m-base")  # never rated
    long = exchange(store, other, "Tell me everything.", "word " * 400, model="m-base")
    feedback.set_feedback(BOB, long.id, "up", None)  # longer than cutoff_len
    again = store.create_conversation(BOB, "math", "m-chat").id
    same = exchange(store, again, "What is 2 + 2?", "5")
    feedback.set_feedback(BOB, same.id, "down", "4")  # the same row as alice's correction
    for winner in ("left", "tie", "both_bad"):
        session = store.create_conversation(ALICE, "", None, kind="compare", models=["m-chat", "m-base"]).id
        left = exchange(store, session, "Name a colour.", "Red.", model="m-chat", column=0)
        right = exchange(store, session, "Name a colour.", "Colour colour.", model="m-base", column=1)
        feedback.record_vote(ALICE, left.id, right.id, winner)
    database.dispose()
    return url


@pytest.fixture
def recipe(tmp_path) -> Path:
    """A recipe for the tiny registry model: its tokenizer and a small cutoff_len decide what is too long."""
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"base_model": TINY_ID, "method": "lora", "cutoff_len": 200}), encoding="utf-8")
    return path


def from_chats(chats: str, recipe: Path, out: Path, *extra: str) -> int:
    return run_cli(["data", "from-chats", "--database-url", chats, "--config", str(recipe), "--out", str(out), *extra])


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_alpaca_rows_from_upvoted_and_corrected_replies_with_the_skip_report(
    registry_env, chats, recipe, tmp_path, capsys
):
    out = tmp_path / "alpaca.jsonl"
    assert from_chats(chats, recipe, out) == 0
    written = rows(out)
    assert [(r["instruction"], r["output"], r["origin"]) for r in written] == [
        ("What is 2 + 2?", "4", "correction"),
        ("And 3 + 3?", "6", "upvoted"),
    ]
    # the earlier turns of the reply's window (as the model saw them) and its system prompt are the input
    assert written[0]["input"] == ""
    assert written[1]["input"] == "Answer with a number.\nHuman: What is 2 + 2?\nAI: 5"
    assert len(load_examples(out)) == 2  # `llmchat finetune` reads the file as it is
    report = capsys.readouterr().out
    assert f"wrote 2 alpaca rows to {out} (from 12 candidates)" in report
    for reason in (
        "no rating: 7",
        "downvoted without a correction: 1",
        "too long for cutoff_len (200 tokens): 1",
        "duplicate: 1",
    ):
        assert reason in report


def test_preference_rows_from_votes_and_corrections_of_downvoted_replies(registry_env, chats, recipe, tmp_path, capsys):
    out = tmp_path / "preference.jsonl"
    assert from_chats(chats, recipe, out, "--format", "preference") == 0
    written = rows(out)
    assert [(r["prompt"], r["chosen"], r["rejected"], r["origin"]) for r in written] == [
        ("Name a colour.", "Red.", "Colour colour.", "vote"),
        ("What is 2 + 2?", "4", "5", "correction"),
    ]
    assert written[0]["chosen_model"] == "m-chat" and written[0]["rejected_model"] == "m-base"
    assert len(load_preferences(out)) == 2
    report = capsys.readouterr().out
    for reason in (
        "vote: tie: 1",
        "vote: both bad: 1",
        "duplicate: 1",
        "downvoted without a correction: 1",
        "reply not downvoted",
        "no rating",
    ):
        assert reason in report


def test_kto_rows_straight_from_the_thumbs_without_pairs(registry_env, chats, recipe, tmp_path, capsys):
    out = tmp_path / "kto.jsonl"
    assert from_chats(chats, recipe, out, "--format", "kto") == 0
    written = rows(out)
    assert [(r["prompt"], r["completion"], r["label"], r["origin"]) for r in written] == [
        ("What is 2 + 2?", "5", False, "downvoted"),
        ("What is 2 + 2?", "4", True, "correction"),
        ("And 3 + 3?", "6", True, "upvoted"),
        ("And 4 + 4?", "I do not know.", False, "downvoted"),
    ]
    assert written[3]["input"].endswith("Human: And 3 + 3?\nAI: 6")  # the turns the reply was written after
    assert len(load_kto(out)) == 4  # `llmchat finetune` (method: kto) reads the file as it is
    report = capsys.readouterr().out
    assert f"wrote 4 kto rows to {out} (from 12 candidates)" in report
    for reason in ("no rating: 7", "too long for cutoff_len (200 tokens): 1", "duplicate: 2"):
        assert reason in report


def test_models_and_since_narrow_the_export(registry_env, chats, recipe, tmp_path, capsys):
    out = tmp_path / "only-base.jsonl"
    assert from_chats(chats, recipe, out, "--models", "m-base", "--set", "cutoff_len=4096") == 0
    assert [r["instruction"] for r in rows(out)] == ["Tell me everything."]  # long is fine with a larger cutoff
    assert from_chats(chats, recipe, out, "--since", "2999-01-01") == 0
    assert out.read_text(encoding="utf-8") == ""
    assert "wrote 0 alpaca rows" in capsys.readouterr().out


def test_clear_errors_for_a_missing_database_or_bad_date(registry_env, recipe, tmp_path, capsys):
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    assert from_chats(missing, recipe, tmp_path / "x.jsonl") == 2
    assert "no database at" in capsys.readouterr().err and not (tmp_path / "nope.db").exists()
    assert run_cli(["data", "from-chats", "--out", str(tmp_path / "x.jsonl"), "--since", "last week"]) == 2
    assert "--since" in capsys.readouterr().err
