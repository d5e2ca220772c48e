"""The dataset the project writes itself: Alpaca-format tasks with short answers that can be checked exactly.

Every task is a small function of a seeded `random.Random`, so the same seed always gives the same file.
Answers are bare (a number, a word, a list) so exact match is a fair score.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

Example = dict[str, str]

WORDS = (
    "apple", "river", "garden", "window", "pencil", "orange", "silver", "planet", "rabbit", "forest",
    "candle", "bridge", "yellow", "mirror", "basket", "engine", "island", "jacket", "kitten", "ladder",
    "market", "needle", "pocket", "rocket", "saddle", "tunnel", "violet", "wallet", "button", "castle",
    "dragon", "flower", "guitar", "hammer", "jungle", "lemon", "magnet", "nickel", "pepper", "puzzle",
    "cat", "dog", "sun", "moon", "tree", "book", "milk", "fish", "star", "rain", "snow", "bird", "lamp", "door",
)

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Japan": "Tokyo",
    "China": "Beijing", "Egypt": "Cairo", "Canada": "Ottawa", "Russia": "Moscow", "Greece": "Athens",
    "Portugal": "Lisbon", "Norway": "Oslo", "Sweden": "Stockholm", "Finland": "Helsinki", "Poland": "Warsaw",
    "Austria": "Vienna", "Ireland": "Dublin", "Kenya": "Nairobi", "Peru": "Lima", "Chile": "Santiago",
    "Cuba": "Havana", "Thailand": "Bangkok", "Turkey": "Ankara", "Mexico": "Mexico City", "India": "New Delhi",
    "Argentina": "Buenos Aires", "Australia": "Canberra", "Brazil": "Brasilia", "Hungary": "Budapest",
    "Denmark": "Copenhagen", "Belgium": "Brussels", "Netherlands": "Amsterdam", "Iran": "Tehran",
}

OPPOSITES = {
    "hot": "cold", "big": "small", "fast": "slow", "up": "down", "happy": "sad", "light": "dark",
    "open": "closed", "early": "late", "full": "empty", "hard": "soft", "old": "new", "tall": "short",
    "rich": "poor", "wet": "dry", "strong": "weak", "left": "right", "win": "lose", "day": "night",
}

# (from unit, to unit, factor): "Convert N <from> to <to>." -> N * factor
CONVERSIONS = (
    ("kilometers", "meters", 1000), ("meters", "centimeters", 100), ("centimeters", "millimeters", 10),
    ("kilograms", "grams", 1000), ("liters", "milliliters", 1000), ("hours", "minutes", 60),
    ("minutes", "seconds", 60), ("days", "hours", 24), ("weeks", "days", 7), ("feet", "inches", 12),
)


def _add(rng: random.Random) -> Example:
    a, b = rng.randint(1, 50), rng.randint(1, 50)
    return {"instruction": f"What is {a} + {b}?", "input": "", "output": str(a + b)}


def _subtract(rng: random.Random) -> Example:
    a, b = sorted((rng.randint(1, 60), rng.randint(1, 60)), reverse=True)
    return {"instruction": f"What is {a} - {b}?", "input": "", "output": str(a - b)}


def _multiply(rng: random.Random) -> Example:
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    return {"instruction": f"What is {a} times {b}?", "input": "", "output": str(a * b)}


def _convert(rng: random.Random) -> Example:
    source, target, factor = rng.choice(CONVERSIONS)
    n = rng.randint(1, 20)
    return {"instruction": f"Convert {n} {source} to {target}. Answer with the number only.",
            "input": "", "output": str(n * factor)}


def _sort(rng: random.Random) -> Example:
    numbers = rng.sample(range(1, 50), rng.randint(3, 5))
    return {"instruction": "Sort these numbers from smallest to largest.",
            "input": ", ".join(map(str, numbers)), "output": ", ".join(map(str, sorted(numbers)))}


def _largest(rng: random.Random) -> Example:
    numbers = rng.sample(range(1, 100), rng.randint(3, 5))
    return {"instruction": "Which number is the largest?", "input": ", ".join(map(str, numbers)),
            "output": str(max(numbers))}


def _uppercase(rng: random.Random) -> Example:
    word = rng.choice(WORDS)
    return {"instruction": "Write this word in uppercase.", "input": word, "output": word.upper()}


def _reverse(rng: random.Random) -> Example:
    word = rng.choice(WORDS)
    return {"instruction": "Write this word backwards.", "input": word, "output": word[::-1]}


def _count_letters(rng: random.Random) -> Example:
    word = rng.choice(WORDS)
    return {"instruction": "How many letters are in this word?", "input": word, "output": str(len(word))}


def _first_letter(rng: random.Random) -> Example:
    word = rng.choice(WORDS)
    return {"instruction": "What is the first letter of this word?", "input": word, "output": word[0]}


def _capital(rng: random.Random) -> Example:
    country = rng.choice(sorted(CAPITALS))
    phrasing = rng.choice(("What is the capital of {c}?", "Name the capital city of {c}."))
    return {"instruction": phrasing.format(c=country), "input": "", "output": CAPITALS[country]}


def _opposite(rng: random.Random) -> Example:
    word = rng.choice(sorted(OPPOSITES))
    return {"instruction": "Give the opposite of this word.", "input": word, "output": OPPOSITES[word]}


TASKS: dict[str, Callable[[random.Random], Example]] = {
    "add": _add, "subtract": _subtract, "multiply": _multiply, "convert": _convert, "sort": _sort,
    "largest": _largest, "uppercase": _uppercase, "reverse": _reverse, "count_letters": _count_letters,
    "first_letter": _first_letter, "capital": _capital, "opposite": _opposite,
}


def make_examples(n: int = 2000, seed: int = 0) -> list[Example]:
    """`n` distinct examples (as many as the tasks can make), tasks drawn in turn so each is equally common.

    Distinct (instruction, input) pairs only: a duplicate could land in both train and test and
    inflate the held-out score.
    """
    rng = random.Random(seed)
    names = sorted(TASKS)
    seen: set[tuple[str, str]] = set()
    examples: list[Example] = []
    attempts = 0
    while len(examples) < n and attempts < n * 50:
        task = names[attempts % len(names)]
        attempts += 1
        example = TASKS[task](rng)
        key = (example["instruction"], example["input"])
        if key in seen:
            continue
        seen.add(key)
        examples.append({**example, "task": task})
    rng.shuffle(examples)
    return examples


def write_jsonl(examples: list[Example], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False) + "\n")
    return path
