"""Model versions: usage, champion alias, version comparison and rollback marks."""
