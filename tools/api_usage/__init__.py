"""Rank the PyTorch names that tutorial and course code uses (see README.md)."""
