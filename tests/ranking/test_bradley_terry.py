"""The Bradley-Terry fit and the leaderboard built on it, on hand-made votes whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmchat.ranking import Outcome, bradley_terry, leaderboard
from llmchat.ranking.bradley_terry import PRIOR_SD, SCALE
from llmchat.store import Battle


def test_a_clear_order_comes_out_in_order_with_intervals_around_the_ratings():
    votes = (
        [Battle("A", "B", "left")] * 6
        + [Battle("A", "B", "right")] * 2
        + [Battle("B", "C", "left")] * 6
        + [Battle("C", "B", "left")] * 2
        + [Battle("C", "A", "right")] * 8
    )
    board = leaderboard(votes, {})
    assert [row["model"] for row in board["models"]] == ["A", "B", "C"]
    for row in board["models"]:
        low, high = row["ci95"]
        assert low <= row["rating"] <= high and high - low > 10
    assert board["votes"] == 24
    assert leaderboard(votes, {}) == board  # a fixed bootstrap seed: the same votes, the same numbers


def test_ratings_match_the_known_odds_and_a_tie_is_half_a_win():
    # 300:100 means odds of 3:1, i.e. 400*log10(3) = 190.8 Elo points apart (the weak prior barely moves that)
    expected = 400 * math.log10(3)
    wins = bradley_terry([Outcome("A", "B", 1.0)] * 300 + [Outcome("A", "B", 0.0)] * 100, samples=20)
    ties = bradley_terry([Outcome("A", "B", 1.0)] * 200 + [Outcome("A", "B", 0.5)] * 200, samples=20)
    for ratings in (wins, ties):
        assert ratings["A"].rating - ratings["B"].rating == pytest.approx(expected, abs=1.5)
        assert ratings["A"].rating + ratings["B"].rating == pytest.approx(2000)  # centred on 1000


def test_the_fit_agrees_with_scikit_learns_logistic_regression():
    """The same model fitted by another library: L2-penalised logistic regression on +1/-1 indicator rows (a tie:
    one row each way at half weight); sklearn's C is our prior's variance."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    models = ["a", "b", "c", "d"]
    outcomes = [Outcome(*rng.choice(models, 2, replace=False), float(rng.choice([1.0, 0.0, 0.5]))) for _ in range(60)]
    rows, labels, weights = [], [], []
    for o in outcomes:
        x = np.zeros(len(models))
        x[models.index(o.first)], x[models.index(o.second)] = 1.0, -1.0
        for label, weight in ((1, o.score), (0, 1.0 - o.score)):
            if weight:
                rows.append(x)
                labels.append(label)
                weights.append(weight)
    fit = LogisticRegression(C=PRIOR_SD**2, fit_intercept=False, tol=1e-10, max_iter=1000)
    fit.fit(np.array(rows), np.array(labels), sample_weight=np.array(weights))
    ours = bradley_terry(outcomes, samples=5)
    for index, model in enumerate(models):
        assert ours[model].rating == pytest.approx(1000 + SCALE * fit.coef_[0][index], abs=0.05)


def test_the_leaderboard_counts_battles_ties_both_bad_and_thumbs():
    votes = [
        Battle("A", "B", "left"),
        Battle("B", "A", "left"),
        Battle("A", "B", "tie"),
        Battle("A", "B", "both_bad"),
        Battle("A", "A", "left"),
        Battle("A", "", "left"),
    ]
    board = leaderboard(votes, {"A": {"up": 3, "down": 1}, "Z": {"up": 1}})
    rows = {row["model"]: row for row in board["models"]}
    assert board["votes"] == 4  # same-model and model-less votes are not battles
    assert {k: rows["A"][k] for k in ("battles", "wins", "losses", "ties", "both_bad", "win_rate")} == {
        "battles": 4,
        "wins": 1,
        "losses": 1,
        "ties": 2,
        "both_bad": 1,
        "win_rate": 0.5,  # a tie is half a win
    }
    assert rows["A"]["provisional"] and board["min_battles"] == 10
    assert rows["A"]["thumbs_up_share"] == 0.75
    assert rows["A"]["rating"] == pytest.approx(rows["B"]["rating"])  # one win each, two ties: level
    # thumbs but no battles: listed, unrated, last
    assert board["models"][-1]["model"] == "Z" and rows["Z"]["rating"] is None and rows["Z"]["ci95"] is None
    assert "half a win" in board["ties"]


def test_no_votes_no_ratings():
    assert leaderboard([], {}) == {
        "models": [],
        "votes": 0,
        "method": leaderboard([], {})["method"],
        "ties": leaderboard([], {})["ties"],
        "min_battles": 10,
    }


def test_a_rating_is_provisional_until_the_model_has_min_battles():
    votes = [Battle("A", "B", "left")] * 9
    assert all(row["provisional"] for row in leaderboard(votes, {})["models"])
    ranked = leaderboard([*votes, Battle("B", "A", "tie")], {})["models"]
    assert not any(row["provisional"] for row in ranked)
