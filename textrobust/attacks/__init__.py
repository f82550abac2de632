"""Attacks: word-substitution attacks built from candidates, constraints, a search and a goal."""
