"""Leaderboard: reports that are pure functions of the store (summaries; matrices, HTML, plots next)."""
