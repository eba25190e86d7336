"""Differentiable operations, grouped by family; each op is one Function class with its
forward and backward side by side."""
