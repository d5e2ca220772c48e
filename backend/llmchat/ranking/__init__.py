"""Model ratings from votes between their replies (Bradley-Terry) and the leaderboard built on them."""

from llmchat.ranking.bradley_terry import Outcome, Rating, bradley_terry
from llmchat.ranking.leaderboard import leaderboard

__all__ = ["Outcome", "Rating", "bradley_terry", "leaderboard"]
