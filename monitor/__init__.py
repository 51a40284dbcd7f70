"""Model monitor: logging SDK, DuckDB log store and metrics for deployed ML models."""

__version__ = "0.1.0"
