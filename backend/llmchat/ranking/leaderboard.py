"""The leaderboard: per model, its Bradley-Terry rating from the votes, its battle record and its thumbs.

How votes count: `left` / `right` is a win for that side; `tie` is half a win for each side; `both_bad` is a tie
for the rating too (neither reply was better) and is reported apart. A vote between two replies of the same model
says nothing about models and is left out. `win_rate` counts a tie as half a win, as the rating does (one tie is
50 %, not 0 %). A model with fewer than MIN_BATTLES battles is `provisional`: its interval is too wide to rank it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from llmchat.ranking.bradley_terry import BOOTSTRAP_SAMPLES, Outcome, bradley_terry

SCORES = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}
MIN_BATTLES = 10  # below this a rating is shown as provisional: a few votes move it by hundreds of points
METHOD = (
    f"Bradley-Terry (scipy), 1000 + 400·log10 scale, 95% bootstrap interval over votes ({BOOTSTRAP_SAMPLES} resamples)"
)
TIES = (
    "a tie counts as half a win for each side; both_bad counts as a tie for the rating and is reported "
    "(both_bad); votes between two replies of the same model are not counted"
)


@dataclass
class Row:
    model: str
    rating: float | None = None
    ci95: list[float] | None = None
    battles: int = 0
    wins: int = 0
    losses: int = 0
    ties: int = 0  # tie and both_bad votes
    both_bad: int = 0
    win_rate: float | None = None
    provisional: bool = True
    thumbs_up: int = 0
    thumbs_down: int = 0
    thumbs_up_share: float | None = None
    _record: Counter = field(default_factory=Counter, repr=False)


def _round(value: float, digits: int = 1) -> float:
    return round(value, digits)


def _tally(rows: dict[str, Row], battles: Iterable[Any]) -> list[Outcome]:
    outcomes = []
    for battle in battles:
        left, right, winner = battle.left_model, battle.right_model, battle.winner
        if not left or not right or left == right or winner not in SCORES:
            continue
        outcomes.append(Outcome(left, right, SCORES[winner]))
        for model, side in ((left, "left"), (right, "right")):
            record = rows.setdefault(model, Row(model))._record
            record["battles"] += 1
            if winner in ("tie", "both_bad"):
                record["ties"] += 1
                record["both_bad"] += winner == "both_bad"
            else:
                record["wins" if winner == side else "losses"] += 1
    return outcomes


def leaderboard(battles: Iterable[Any], thumbs: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """`battles`: objects with left_model, right_model, winner (store.Battle); `thumbs`: model -> {up, down}."""
    rows: dict[str, Row] = {}
    outcomes = _tally(rows, battles)
    for model, rating in bradley_terry(outcomes).items():
        rows[model].rating = _round(rating.rating)
        rows[model].ci95 = [_round(rating.ci95[0]), _round(rating.ci95[1])]
    for model, counts in thumbs.items():
        row = rows.setdefault(model, Row(model))
        row.thumbs_up, row.thumbs_down = int(counts.get("up", 0)), int(counts.get("down", 0))
    for row in rows.values():
        for key in ("battles", "wins", "losses", "ties", "both_bad"):
            setattr(row, key, row._record[key])
        row.win_rate = _round((row.wins + row.ties / 2) / row.battles, 3) if row.battles else None
        row.provisional = row.battles < MIN_BATTLES
        rated = row.thumbs_up + row.thumbs_down
        row.thumbs_up_share = _round(row.thumbs_up / rated, 3) if rated else None
    ordered = sorted(
        rows.values(), key=lambda r: (r.rating is None, -(r.rating or 0.0), -(r.thumbs_up_share or 0.0), r.model)
    )
    return {
        "models": [_public(row) for row in ordered],
        "votes": len(outcomes),
        "method": METHOD,
        "ties": TIES,
        "min_battles": MIN_BATTLES,
    }


def _public(row: Row) -> dict[str, Any]:
    data = asdict(row)
    data.pop("_record")
    return data
