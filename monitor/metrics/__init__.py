"""Metrics layer: statistics over aggregates, one family per subpackage (drift,
performance, fairness, health) plus quality and shared intervals. Results are frozen
dataclasses. Imports only `monitor.core`."""
