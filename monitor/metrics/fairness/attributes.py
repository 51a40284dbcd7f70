"""Fairness per attribute: each sensitive column audited on its own, as Aequitas reports
several attributes, beside the intersectional audit (one group per combination).

Each attribute gets its own groups, reference group, disparities, small-group flags and
four-fifths screen (`monitor.metrics.fairness.audit.audit` over that column alone), so
its result equals the audit of a table with only that sensitive column. The gate over
all attributes (`passed`) fails when any attribute's screen fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.core.errors import InputError
from monitor.metrics.fairness.audit import FairnessReport, audit
from monitor.metrics.fairness.groups import GroupData


@dataclass(frozen=True)
class AttributeAudit:
    attribute: str
    report: FairnessReport


def audit_attributes(
    tables: Mapping[str, GroupData],
    *,
    references: Mapping[str, str] | None = None,
    reference: str = "largest",
    **options: Any,
) -> tuple[AttributeAudit, ...]:
    """The audit of each attribute's table (`tables`: attribute -> its table, grouped by
    that column alone), in the order given. An attribute's reference group is
    `references[attribute]` (a rule or one of its values), else `reference`; `options`
    are `audit`'s (metric, tau, min_group_size, ...). An error names the attribute."""
    chosen = dict(references or {})
    unknown = [name for name in chosen if name not in tables]
    if unknown:
        raise InputError(
            f"reference group for {unknown[0]!r}, which is not a sensitive attribute "
            f"({', '.join(repr(t) for t in tables)})"
        )
    found: list[AttributeAudit] = []
    for attribute, data in tables.items():
        if data.features != (attribute,):
            raise InputError(f"the table of {attribute!r} is grouped by {data.features}")
        try:
            report = audit(data, reference=chosen.get(attribute, reference), **options)
        except InputError as exc:
            raise InputError(f"{attribute}: {exc}") from None
        found.append(AttributeAudit(attribute, report))
    return tuple(found)


def passed(audits: Sequence[AttributeAudit]) -> bool | None:
    """The four-fifths screen over all attributes: False when any attribute fails, None
    when none could be judged, else True."""
    verdicts = [a.report.summary.four_fifths_passed for a in audits]
    if False in verdicts:
        return False
    return None if all(v is None for v in verdicts) else True
