"""Fairness by group: per-group rates (fairlearn), disparities, bootstrap intervals and
trends per time bucket and version."""
