"""Uploaded datasets: ingestion (encoding, delimiter, column types, repairs) and the
registered datasets stored as Parquet."""
