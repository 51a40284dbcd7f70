"""Core layer: config, log schema and files, the DuckDB log store and views, file relations,
the SQLite state store and time windows. Imports nothing else from `monitor`."""
