"""Data sources for training and evaluation (synthetic videos, dataset readers)."""
