"""An optional judge: another worker model grades each free-form answer 1-5 against the reference."""

from __future__ import annotations

import re

from llmchat.training.worker_client import ModelInfo, WorkerClient, WorkerError, user_text

JUDGE_PROMPT = (
    "Grade the answer to the question against the reference answer.\n"
    "Question: {question}\nReference answer: {reference}\nAnswer: {answer}\n"
    "Reply with one number from 1 (wrong) to 5 (fully correct), nothing else."
)


def parse_grade(text: str) -> int | None:
    match = re.search(r"[1-5]", text)
    return int(match.group()) if match else None


def judge_answer(client: WorkerClient, judge: ModelInfo, record: dict, answer: str) -> int | None:
    question = JUDGE_PROMPT.format(question=user_text(record), reference=record["output"], answer=answer.strip())
    try:
        reply = client.answer(judge, {"instruction": question, "input": ""}, max_tokens=4)
    except WorkerError:
        return None
    return parse_grade(reply)
