"""How findings and alerts name a series and print a value (shared by both)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def fingerprint(rule_id: str, labels: Mapping[str, str]) -> str:
    """Stable identity of a rule's series: a hash of the rule id and the sorted labels."""
    text = json.dumps([rule_id, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe_labels(labels: Mapping[str, str]) -> str:
    """'credit-risk, version v3, gender = female' from a series' labels."""
    parts = [labels.get("model", "?")]
    if "version" in labels:
        parts.append(f"version {labels['version'] or '(none)'}")
    if "feature" in labels and "group" in labels:
        parts.append(f"{labels['feature']} = {labels['group']}")
    elif "feature" in labels:
        parts.append(f"feature {labels['feature']}")
    return ", ".join(parts)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "per_min":
        return f"{value:.3g}/min"
    return f"{value:.3g}"
