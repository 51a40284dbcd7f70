"""Pure metric functions over SQL aggregates, each returning a frozen dataclass."""
