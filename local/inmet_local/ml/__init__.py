"""Experiments on the CLEAN data: features, training with MLflow tracking, exploration plots.

Notebooks (local/notebooks/) import from here; they hold no logic of their own.
"""
