"""The Prometheus exporter: per model and version, the figures the dashboard shows, as
metrics for Prometheus (docs/operations.md)."""
