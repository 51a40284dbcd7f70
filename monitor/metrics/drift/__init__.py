"""Drift: method registry and statistics, reference profiles, distributions, drift over
time and multivariate (domain classifier) drift."""
