"""Defenses: adversarial co-tuning, offline augmentation and more."""
