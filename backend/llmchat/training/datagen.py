"""The dataset the project writes itself: Alpaca-format tasks with short answers that can be checked exactly.

Every task is a small function of a seeded `random.Random`, so the same seed always gives the same file.
Answers are bare (a number, a word, a list) so exact match is a fair score. Each task is asked in ten ways
(phrasings.py): eight to train on, two held out, so the test split can tell learning the task from learning
the generator's sentences.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from llmchat.training.phrasings import phrasings, template_id

Example = dict[str, str]

WORDS = (
    "apple",
    "river",
    "garden",
    "window",
    "pencil",
    "orange",
    "silver",
    "planet",
    "rabbit",
    "forest",
    "candle",
    "bridge",
    "yellow",
    "mirror",
    "basket",
    "engine",
    "island",
    "jacket",
    "kitten",
    "ladder",
    "market",
    "needle",
    "pocket",
    "rocket",
    "saddle",
    "tunnel",
    "violet",
    "wallet",
    "button",
    "castle",
    "dragon",
    "flower",
    "guitar",
    "hammer",
    "jungle",
    "lemon",
    "magnet",
    "nickel",
    "pepper",
    "puzzle",
    "cat",
    "dog",
    "sun",
    "moon",
    "tree",
    "book",
    "milk",
    "fish",
    "star",
    "rain",
    "snow",
    "bird",
    "lamp",
    "door",
)

CAPITALS = {
    "France": "Paris",
    "Germany": "Berlin",
    "Italy": "Rome",
    "Spain": "Madrid",
    "Japan": "Tokyo",
    "China": "Beijing",
    "Egypt": "Cairo",
    "Canada": "Ottawa",
    "Russia": "Moscow",
    "Greece": "Athens",
    "Portugal": "Lisbon",
    "Norway": "Oslo",
    "Sweden": "Stockholm",
    "Finland": "Helsinki",
    "Poland": "Warsaw",
    "Austria": "Vienna",
    "Ireland": "Dublin",
    "Kenya": "Nairobi",
    "Peru": "Lima",
    "Chile": "Santiago",
    "Cuba": "Havana",
    "Thailand": "Bangkok",
    "Turkey": "Ankara",
    "Mexico": "Mexico City",
    "India": "New Delhi",
    "Argentina": "Buenos Aires",
    "Australia": "Canberra",
    "Brazil": "Brasilia",
    "Hungary": "Budapest",
    "Denmark": "Copenhagen",
    "Belgium": "Brussels",
    "Netherlands": "Amsterdam",
    "Iran": "Tehran",
}

OPPOSITES = {
    "hot": "cold",
    "big": "small",
    "fast": "slow",
    "up": "down",
    "happy": "sad",
    "light": "dark",
    "open": "closed",
    "early": "late",
    "full": "empty",
    "hard": "soft",
    "old": "new",
    "tall": "short",
    "rich": "poor",
    "wet": "dry",
    "strong": "weak",
    "left": "right",
    "win": "lose",
    "day": "night",
}

# (from unit, to unit, factor): N <from> is N * factor <to>
CONVERSIONS = (
    ("kilometers", "meters", 1000),
    ("meters", "centimeters", 100),
    ("centimeters", "millimeters", 10),
    ("kilograms", "grams", 1000),
    ("liters", "milliliters", 1000),
    ("hours", "minutes", 60),
    ("minutes", "seconds", 60),
    ("days", "hours", 24),
    ("weeks", "days", 7),
    ("feet", "inches", 12),
)


Slots = dict[str, str]


def _add(rng: random.Random) -> tuple[Slots, str]:
    a, b = rng.randint(1, 50), rng.randint(1, 50)
    return {"a": str(a), "b": str(b)}, str(a + b)


def _subtract(rng: random.Random) -> tuple[Slots, str]:
    a, b = sorted((rng.randint(1, 60), rng.randint(1, 60)), reverse=True)
    return {"a": str(a), "b": str(b)}, str(a - b)


def _multiply(rng: random.Random) -> tuple[Slots, str]:
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    return {"a": str(a), "b": str(b)}, str(a * b)


def _convert(rng: random.Random) -> tuple[Slots, str]:
    source, target, factor = rng.choice(CONVERSIONS)
    n = rng.randint(1, 20)
    return {"n": str(n), "source": source, "target": target}, str(n * factor)


def _numbers(rng: random.Random, top: int) -> list[int]:
    return rng.sample(range(1, top), rng.randint(3, 5))


def _sort(rng: random.Random) -> tuple[Slots, str]:
    numbers = _numbers(rng, 50)
    return {"numbers": ", ".join(map(str, numbers))}, ", ".join(map(str, sorted(numbers)))


def _largest(rng: random.Random) -> tuple[Slots, str]:
    numbers = _numbers(rng, 100)
    return {"numbers": ", ".join(map(str, numbers))}, str(max(numbers))


def _word_task(answer: Callable[[str], str]) -> Callable[[random.Random], tuple[Slots, str]]:
    def draw(rng: random.Random) -> tuple[Slots, str]:
        word = rng.choice(WORDS)
        return {"word": word}, answer(word)

    return draw


def _capital(rng: random.Random) -> tuple[Slots, str]:
    country = rng.choice(sorted(CAPITALS))
    return {"country": country}, CAPITALS[country]


def _opposite(rng: random.Random) -> tuple[Slots, str]:
    word = rng.choice(sorted(OPPOSITES))
    return {"word": word}, OPPOSITES[word]


# each task draws its slots and the answer; phrasings.py says how the question is asked
TASKS: dict[str, Callable[[random.Random], tuple[Slots, str]]] = {
    "add": _add,
    "subtract": _subtract,
    "multiply": _multiply,
    "convert": _convert,
    "sort": _sort,
    "largest": _largest,
    "uppercase": _word_task(str.upper),
    "reverse": _word_task(lambda w: w[::-1]),
    "count_letters": _word_task(lambda w: str(len(w))),
    "first_letter": _word_task(lambda w: w[0]),
    "capital": _capital,
    "opposite": _opposite,
}


def make_example(task: str, phrasing: str, rng: random.Random) -> Example:
    """One example of `task`, asked in one of its `phrasing` ("seen" or "unseen") templates."""
    slots, answer = TASKS[task](rng)
    templates = phrasings(task, phrasing)
    index = rng.randrange(len(templates))
    template = templates[index]
    return {
        "instruction": template.instruction.format(**slots),
        "input": template.input.format(**slots),
        "output": answer,
        "task": task,
        "template": template_id(task, phrasing, index),
        "phrasing": phrasing,
    }


def make_examples(n: int = 2000, seed: int = 0, unseen: int = 200) -> list[Example]:
    """`n` distinct examples in the training phrasings plus `unseen` in the held-out ones, shuffled together.

    Tasks are drawn in turn so each is about equally common (a task with few distinct questions, such as
    opposites, runs out first and the others fill in). Every (instruction, input) pair is distinct: a duplicate
    could land in both train and test and inflate the held-out score. `"phrasing": "unseen"` records are for the
    test split only (`data.split_examples` never puts them into train or validation).
    """
    rng = random.Random(seed)
    names = sorted(TASKS)
    seen_keys: set[tuple[str, str]] = set()
    examples: list[Example] = []
    for phrasing, count in (("seen", n), ("unseen", unseen)):
        made, attempts = 0, 0
        while made < count and attempts < max(count, 1) * 50:
            example = make_example(names[attempts % len(names)], phrasing, rng)
            attempts += 1
            key = (example["instruction"], example["input"])
            if key in seen_keys:
                continue
            seen_keys.add(key)
            examples.append(example)
            made += 1
    rng.shuffle(examples)
    return examples


def make_preferences(n: int = 500, seed: int = 0) -> list[dict[str, str]]:
    """`n` DPO rows {prompt, input, chosen, rejected, task} from the training phrasings: `chosen` is the exact
    answer; `rejected` is, in turn, a wrong answer of the same task or the right one buried in a sentence
    (what the untuned chat model writes), so a DPO run learns both to be right and to be brief."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for example in make_examples(n, seed, unseen=0):
        if len(rows) % 2 == 0:
            rejected = _wrong_answer(example, rng)
        else:
            rejected = f"The answer is {example['output']}."
        rows.append(
            {
                "prompt": example["instruction"],
                "input": example["input"],
                "chosen": example["output"],
                "rejected": rejected,
                "task": example["task"],
            }
        )
    return rows


def make_kto_rows(n: int = 500, seed: int = 0) -> list[dict]:
    """`n` KTO rows {prompt, input, completion, label, task}: the preference rows of `make_preferences(n // 2)` taken
    apart (the chosen answer a good one, the rejected a bad one), in the generator's order, so a batch mixes both."""
    rows: list[dict] = []
    for pair in make_preferences(max(1, n // 2), seed):
        common = {"prompt": pair["prompt"], "input": pair["input"], "task": pair["task"]}
        rows.append({**common, "completion": pair["chosen"], "label": True})
        rows.append({**common, "completion": pair["rejected"], "label": False})
    return rows


def _wrong_answer(example: Example, rng: random.Random) -> str:
    """Another draw's answer to the same task, different from the right one (bounded tries)."""
    for _ in range(50):
        _, answer = TASKS[example["task"]](rng)
        if answer != example["output"]:
            return answer
    return example["output"] + "0"


def write_jsonl(examples: list[Example], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False) + "\n")
    return path
