"""The prompts every benchmark uses, so each ratio compares like with like."""

from __future__ import annotations

TOPICS = [
    "the history of the printing press",
    "how bread rises",
    "the quicksort algorithm",
    "the phases of the Moon",
    "a small village by the sea",
    "Newton's three laws of motion",
    "keeping a diary",
    "SQL joins",
    "the water cycle",
    "how vaccines work",
    "the rules of chess",
    "photosynthesis in plants",
    "the Roman aqueducts",
    "how a compiler works",
    "the migration of birds",
    "the invention of the telephone",
]


def batch_prompts(count: int) -> list[str]:
    """`count` different prompts of about 45 tokens each."""
    return [
        f"You are a helpful teacher. Write a clear, friendly explanation of {TOPICS[i % len(TOPICS)]} for a "
        f"curious student, with one concrete example and one surprising fact. Explanation {i + 1}:"
        for i in range(count)
    ]


def long_prompt(sentences: int = 40) -> str:
    """About 500 tokens of ordinary prose (different sentences, so no engine can shortcut repetition)."""
    parts = [
        f"Sentence {i + 1} is about {TOPICS[i % len(TOPICS)]}, which people have studied for a long time."
        for i in range(sentences)
    ]
    return " ".join(parts) + " Summarise the text above in one paragraph:"
