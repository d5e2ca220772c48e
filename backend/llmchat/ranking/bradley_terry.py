"""Bradley-Terry ratings from pairwise outcomes, fitted with scipy, with a bootstrap 95% interval.

P(i beats j) = 1 / (1 + exp(-(b_i - b_j))). The log-strengths b maximise the log-likelihood of the outcomes plus a
weak Gaussian prior on each b (standard deviation `PRIOR_SD`): without it a model that won every battle would have
an infinite strength (the maximum-likelihood estimate does not exist), which with a handful of votes, or in a
bootstrap resample, is the usual case. The prior also fixes the scale's origin: the b sum to zero.

An outcome's `score` is what the first model got: 1 a win, 0 a loss, 0.5 a tie (half a win for each side).
Ratings are on the Elo scale: 1000 + 400 * log10(e) * b, so 400 points mean 10:1 odds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

PRIOR_SD = 2.0  # on b (natural-log odds): about ±350 Elo points
BASE_RATING = 1000.0
SCALE = 400.0 / math.log(10.0)
BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 0  # fixed: the same votes always give the same interval


@dataclass(frozen=True)
class Outcome:
    first: str
    second: str
    score: float  # of `first`: 1 win, 0 loss, 0.5 tie


@dataclass(frozen=True)
class Rating:
    rating: float
    ci95: tuple[float, float]


def _encode(models: Sequence[str], outcomes: Sequence[Outcome]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = {model: i for i, model in enumerate(models)}
    first = np.array([index[o.first] for o in outcomes], dtype=np.int64)
    second = np.array([index[o.second] for o in outcomes], dtype=np.int64)
    score = np.array([o.score for o in outcomes], dtype=np.float64)
    return first, second, score


def _negative_log_posterior(b: np.ndarray, first: np.ndarray, second: np.ndarray, score: np.ndarray):
    """The value and gradient of -(log-likelihood + log-prior)."""
    margin = b[first] - b[second]
    # log sigmoid(x) = -log(1 + exp(-x)), computed stably for large |x|
    value = -np.sum(score * -np.logaddexp(0.0, -margin) + (1.0 - score) * -np.logaddexp(0.0, margin))
    value += np.sum(b * b) / (2.0 * PRIOR_SD**2)
    residual = score - 1.0 / (1.0 + np.exp(-margin))  # d(log-likelihood)/d(margin)
    gradient = -np.bincount(first, residual, minlength=b.size) + np.bincount(second, residual, minlength=b.size)
    gradient += b / PRIOR_SD**2
    return value, gradient


def _hessian(b: np.ndarray, first: np.ndarray, second: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The Hessian of the negative log-posterior: sum of p(1-p) (e_i - e_j)(e_i - e_j)^T, plus the prior's."""
    n = b.size
    p = 1.0 / (1.0 + np.exp(-(b[first] - b[second])))
    weight = p * (1.0 - p)

    def cells(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return np.bincount(rows * n + columns, weight, minlength=n * n)

    flat = cells(first, first) + cells(second, second) - cells(first, second) - cells(second, first)
    return flat.reshape(n, n) + np.eye(n) / PRIOR_SD**2


def fit_strengths(
    n_models: int, first: np.ndarray, second: np.ndarray, score: np.ndarray, start: np.ndarray | None = None
) -> np.ndarray:
    """The log-strengths b (one per model index) that maximise the posterior: a trust-region Newton method with
    the exact Hessian (the problem is convex and has one parameter per model, so it converges in a few steps)."""
    x0 = np.zeros(n_models) if start is None else start
    if len(first) == 0:
        return x0 * 0.0
    result = minimize(
        _negative_log_posterior,
        x0,
        args=(first, second, score),
        jac=True,
        hess=_hessian,
        method="trust-exact",
        options={"maxiter": 200, "gtol": 1e-8},
    )
    return result.x


def to_rating(b: np.ndarray) -> np.ndarray:
    return BASE_RATING + SCALE * b


def bradley_terry(
    outcomes: Sequence[Outcome], samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED
) -> dict[str, Rating]:
    """Per model in `outcomes`: its rating and the 2.5-97.5 percentile interval of the ratings refitted on
    `samples` resamples of the outcomes (drawn with replacement, seeded)."""
    models = sorted({o.first for o in outcomes} | {o.second for o in outcomes})
    if not models:
        return {}
    first, second, score = _encode(models, outcomes)
    fitted = fit_strengths(len(models), first, second, score)
    rng = np.random.default_rng(seed)
    resampled = np.empty((samples, len(models)))
    for k in range(samples):
        pick = rng.integers(0, len(outcomes), size=len(outcomes))
        resampled[k] = fit_strengths(len(models), first[pick], second[pick], score[pick], start=fitted)
    low, high = np.percentile(to_rating(resampled), [2.5, 97.5], axis=0)
    ratings = to_rating(fitted)
    return {model: Rating(float(ratings[i]), (float(low[i]), float(high[i]))) for i, model in enumerate(models)}
