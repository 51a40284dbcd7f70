"""Hourly rollups of the logs (docs/rollups.md): `run_rollup` with the DuckDB engine on one
machine or the Spark engine (pyspark, imported only by monitor.ops.rollup.spark_engine)."""
