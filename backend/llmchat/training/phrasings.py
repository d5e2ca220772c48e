"""How each generated task is asked: ten phrasings per task, eight to train on and two held out for the test split.

A phrasing is an (instruction, input) pair of format strings over the task's slots. Each task has both shapes:
the whole question in the instruction with an empty input, and a general instruction with the data (or the
whole question) in the input. The held-out ("unseen") phrasings share no template with the training ones, so a
score on them measures whether a run learned the task rather than the generator's sentences.

Slots: {a} {b} (numbers), {n} {source} {target} (unit conversion), {numbers} (a comma-separated list),
{word}, {country}.
"""

from __future__ import annotations

from typing import NamedTuple


class Phrasing(NamedTuple):
    instruction: str
    input: str = ""  # "" = everything is in the instruction


ANSWER = "Answer the question."  # a general instruction: the question itself is in the input
NUMBER_ONLY = "Work out the result. Reply with the number only."

SEEN: dict[str, tuple[Phrasing, ...]] = {
    "add": (
        Phrasing("What is {a} + {b}?"),
        Phrasing("Add {a} and {b}."),
        Phrasing("Calculate {a} plus {b}."),
        Phrasing("What do you get when you add {b} to {a}?"),
        Phrasing("Add these two numbers.", "{a} and {b}"),
        Phrasing("Compute the sum.", "{a} + {b}"),
        Phrasing(NUMBER_ONLY, "{a} + {b} = ?"),
        Phrasing(ANSWER, "How much is {a} plus {b}?"),
    ),
    "subtract": (
        Phrasing("What is {a} - {b}?"),
        Phrasing("Subtract {b} from {a}."),
        Phrasing("Calculate {a} minus {b}."),
        Phrasing("What is {a} take away {b}?"),
        Phrasing("Subtract the second number from the first.", "{a}, {b}"),
        Phrasing("Compute the difference.", "{a} - {b}"),
        Phrasing(NUMBER_ONLY, "{a} - {b} = ?"),
        Phrasing(ANSWER, "How much is {a} minus {b}?"),
    ),
    "multiply": (
        Phrasing("What is {a} times {b}?"),
        Phrasing("Multiply {a} by {b}."),
        Phrasing("Calculate {a} * {b}."),
        Phrasing("How much is {a} multiplied by {b}?"),
        Phrasing("Multiply these two numbers.", "{a} and {b}"),
        Phrasing("Compute the product.", "{a} * {b}"),
        Phrasing(NUMBER_ONLY, "{a} x {b} = ?"),
        Phrasing(ANSWER, "What does {a} times {b} make?"),
    ),
    "convert": (
        Phrasing("Convert {n} {source} to {target}. Answer with the number only."),
        Phrasing("How many {target} are in {n} {source}?"),
        Phrasing("{n} {source} is how many {target}?"),
        Phrasing("Express {n} {source} in {target}."),
        Phrasing("Convert the quantity to {target}.", "{n} {source}"),
        Phrasing("Convert this to {target}. Give only the number.", "{n} {source}"),
        Phrasing("Change the unit.", "{n} {source} -> {target}"),
        Phrasing(ANSWER, "How many {target} are there in {n} {source}?"),
    ),
    "sort": (
        Phrasing("Sort these numbers from smallest to largest.", "{numbers}"),
        Phrasing("Put these numbers in ascending order.", "{numbers}"),
        Phrasing("Order the numbers below from lowest to highest.", "{numbers}"),
        Phrasing("Arrange in increasing order.", "Numbers: {numbers}"),
        Phrasing("Sort the numbers {numbers} in ascending order."),
        Phrasing("List {numbers} in increasing order."),
        Phrasing("Rearrange {numbers} so that they go from low to high."),
        Phrasing(ANSWER, "What are {numbers} sorted from smallest to largest?"),
    ),
    "largest": (
        Phrasing("Which number is the largest?", "{numbers}"),
        Phrasing("Find the biggest number in the list.", "{numbers}"),
        Phrasing("What is the maximum of these numbers?", "{numbers}"),
        Phrasing("Pick the highest number.", "Numbers: {numbers}"),
        Phrasing("Which is the largest of {numbers}?"),
        Phrasing("What is the largest number among {numbers}?"),
        Phrasing("Give the maximum of {numbers}."),
        Phrasing(ANSWER, "Which of {numbers} is the biggest?"),
    ),
    "uppercase": (
        Phrasing("Write this word in uppercase.", "{word}"),
        Phrasing("Convert the word to capital letters.", "{word}"),
        Phrasing("Make this word all caps.", "Word: {word}"),
        Phrasing("Change the text to upper case.", "{word}"),
        Phrasing("Write '{word}' in uppercase."),
        Phrasing("What is {word} in capital letters?"),
        Phrasing("Spell the word {word} in all caps."),
        Phrasing(ANSWER, "How is '{word}' written in uppercase?"),
    ),
    "reverse": (
        Phrasing("Write this word backwards.", "{word}"),
        Phrasing("Reverse the letters of this word.", "{word}"),
        Phrasing("Spell this word in reverse order.", "Word: {word}"),
        Phrasing("Flip the order of the letters.", "{word}"),
        Phrasing("Write '{word}' backwards."),
        Phrasing("What is {word} spelled backwards?"),
        Phrasing("Reverse the word {word}."),
        Phrasing(ANSWER, "What do you get when you reverse '{word}'?"),
    ),
    "count_letters": (
        Phrasing("How many letters are in this word?", "{word}"),
        Phrasing("Count the letters in this word.", "{word}"),
        Phrasing("Give the length of the word.", "Word: {word}"),
        Phrasing("How long is this word, in letters?", "{word}"),
        Phrasing("How many letters are in '{word}'?"),
        Phrasing("Count the letters in the word {word}."),
        Phrasing("How many characters does {word} have?"),
        Phrasing(ANSWER, "How many letters does '{word}' have?"),
    ),
    "first_letter": (
        Phrasing("What is the first letter of this word?", "{word}"),
        Phrasing("Give the first letter of the word.", "{word}"),
        Phrasing("Which letter does this word start with?", "Word: {word}"),
        Phrasing("Write the initial letter.", "{word}"),
        Phrasing("What is the first letter of '{word}'?"),
        Phrasing("Which letter does {word} begin with?"),
        Phrasing("Name the first letter of the word {word}."),
        Phrasing(ANSWER, "What letter does '{word}' start with?"),
    ),
    "capital": (
        Phrasing("What is the capital of {country}?"),
        Phrasing("Name the capital city of {country}."),
        Phrasing("Which city is the capital of {country}?"),
        Phrasing("Give the capital of {country}."),
        Phrasing("Name the capital of this country.", "{country}"),
        Phrasing("What is the capital city?", "Country: {country}"),
        Phrasing("Give the country's capital.", "{country}"),
        Phrasing(ANSWER, "What is {country}'s capital?"),
    ),
    "opposite": (
        Phrasing("Give the opposite of this word.", "{word}"),
        Phrasing("What is the opposite of this word?", "{word}"),
        Phrasing("Write the antonym.", "Word: {word}"),
        Phrasing("Give a word that means the opposite.", "{word}"),
        Phrasing("What is the opposite of '{word}'?"),
        Phrasing("Give the opposite of {word}."),
        Phrasing("What is the antonym of {word}?"),
        Phrasing(ANSWER, "Which word means the opposite of '{word}'?"),
    ),
}

# Held out: never in a training split, only in the test split (one of each shape per task).
UNSEEN: dict[str, tuple[Phrasing, ...]] = {
    "add": (Phrasing("What is the sum of {a} and {b}?"), Phrasing("Give the result of this addition.", "{a} plus {b}")),
    "subtract": (
        Phrasing("What is the difference between {a} and {b}?"),
        Phrasing("Take the second number away from the first.", "{a} and {b}"),
    ),
    "multiply": (
        Phrasing("What is the product of {a} and {b}?"),
        Phrasing("Give the result of this multiplication.", "{a} times {b}"),
    ),
    "convert": (
        Phrasing("What is {n} {source} in {target}?"),
        Phrasing("Turn this amount into {target}. Number only.", "{n} {source}"),
    ),
    "sort": (
        Phrasing("Write the numbers {numbers} from the smallest to the biggest."),
        Phrasing("Order these from least to greatest.", "{numbers}"),
    ),
    "largest": (
        Phrasing("Name the highest value in {numbers}."),
        Phrasing("Which of these numbers is the greatest?", "{numbers}"),
    ),
    "uppercase": (
        Phrasing("Rewrite the word {word} using only capital letters."),
        Phrasing("Put this word in upper case letters.", "{word}"),
    ),
    "reverse": (
        Phrasing("Spell the word {word} from the last letter to the first."),
        Phrasing("Read this word from right to left and write it down.", "{word}"),
    ),
    "count_letters": (
        Phrasing("What is the number of letters in the word {word}?"),
        Phrasing("Tell me how many letters this word contains.", "{word}"),
    ),
    "first_letter": (
        Phrasing("What letter comes first in the word {word}?"),
        Phrasing("Tell me the starting letter of this word.", "{word}"),
    ),
    "capital": (
        Phrasing("Tell me the capital city of {country}."),
        Phrasing("Which city is the capital of the country below?", "{country}"),
    ),
    "opposite": (
        Phrasing("Name a word with the opposite meaning of {word}."),
        Phrasing("What word is opposite in meaning to this one?", "{word}"),
    ),
}


def phrasings(task: str, phrasing: str) -> tuple[Phrasing, ...]:
    """The task's phrasings of one kind: "seen" (training) or "unseen" (held out for the test split)."""
    return {"seen": SEEN, "unseen": UNSEEN}[phrasing][task]


def template_id(task: str, phrasing: str, index: int) -> str:
    """A stable name for a template, e.g. "add/3" (seen, 1-8) or "add/u1" (unseen)."""
    return f"{task}/{index + 1}" if phrasing == "seen" else f"{task}/u{index + 1}"
