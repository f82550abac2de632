"""Leaderboard: the SQLite store of runs and results, and reports that are pure functions of it."""
