"""`monitor fairness` output: the reference groups asked for, the JSON document and its
text form, intersectional (one report) or per attribute (one report per sensitive
feature, under `attributes`, with the screen over all of them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from monitor.core.errors import InputError

if TYPE_CHECKING:
    from monitor.metrics.fairness.attributes import AttributeAudit
    from monitor.metrics.fairness.audit import FairnessReport

Judged: TypeAlias = "FairnessReport | tuple[AttributeAudit, ...]"
"""The intersectional report, or one audit per attribute (--per-attribute)."""


def references(
    values: Sequence[str] | None, sensitive: Sequence[str], *, per_attribute: bool
) -> tuple[str, dict[str, str]]:
    """The `--reference-group` values as (the rule or group for every table, the group
    of each attribute named as ATTR=VALUE). Intersectional: one value, a rule or a group
    (`Caucasian & Male`). Per attribute: at most one rule (largest, best, overall) and
    any number of ATTR=VALUE, one per attribute."""
    from monitor.metrics.fairness.audit import REFERENCE_RULES

    given = list(values or ())
    if not per_attribute:
        if len(given) > 1:
            raise InputError(
                "give one --reference-group (one per attribute goes with --per-attribute)"
            )
        return (given[0] if given else "largest"), {}
    rules = [v for v in given if v in REFERENCE_RULES]
    if len(rules) > 1:
        raise InputError(f"--reference-group: give one rule, not {' and '.join(rules)}")
    chosen: dict[str, str] = {}
    for value in (v for v in given if v not in REFERENCE_RULES):
        named = [a for a in sensitive if value.startswith(a + "=")]
        if not named:
            raise InputError(
                f"--reference-group {value!r}: with --per-attribute name the attribute, "
                f"ATTR=VALUE (e.g. {sensitive[0]}=...), or give largest, best or overall"
            )
        attribute = max(named, key=len)
        if attribute in chosen:
            raise InputError(f"--reference-group: two groups for {attribute!r}")
        chosen[attribute] = value[len(attribute) + 1 :]
    return (rules[0] if rules else "largest"), chosen


def document(
    source: Mapping[str, Any], judged: Judged, trends: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], bool | None]:
    """The JSON document and the four-fifths verdict that gates --fail-on-disparity.
    `trends`: the trend document per attribute ("" for the intersectional report)."""
    from monitor.reports.fairness_export import attributes_document, report_document

    trends = trends or {}
    if not isinstance(judged, tuple):
        found = {"source": dict(source)} | report_document(judged)
        if "" in trends:
            found["trend"] = trends[""]
        return found, judged.summary.four_fifths_passed
    found = {"source": dict(source)} | attributes_document(judged)
    for entry in found["attributes"]:
        if entry["attribute"] in trends:
            entry["trend"] = trends[entry["attribute"]]
    verdict: bool | None = found["four_fifths_passed"]
    return found, verdict


def print_text(found: Mapping[str, Any]) -> None:
    """The document in words: per attribute, each attribute's report under its name."""
    if found.get("per_attribute"):
        for entry in found["attributes"]:
            print(f"== {entry['attribute']} ==")
            _print_report(entry)
        print(
            "four-fifths screen over all attributes: "
            + {True: "passed", False: "FAILED", None: "not judged"}[found["four_fifths_passed"]]
        )
    else:
        _print_report(found)
    columns = found.get("columns") or {}
    for role in columns.get("defaults", ()):
        print(f"note: the {role} is column {columns[role]!r}, by its default name")
    for excluded in columns.get("excluded", ()):
        print(f"left out: {excluded['column']}: {excluded['detail']}")


def _print_report(found: Mapping[str, Any]) -> None:
    metric = found["metric"]
    print(
        f"{found['rows']} labeled rows; groups by {', '.join(found['sensitive_features'])}; "
        f"reference {found['reference']} = {found['reference_group']}; "
        f"screen on {metric} with tau {found['tau']}"
    )
    for group in found["groups"]:
        value, ratio = group.get(metric), group["disparity"].get(metric)
        flag = f" [too small: {group['small_reason']}]" if group["small"] else ""
        fails = " FAILS" if group["fails_screen"] else ""
        share = f" ppr={_fmt(group['ppr'])}" if "ppr" in group and metric != "ppr" else ""
        print(
            f"  {group['label']}: n={group['count']} {metric}={_fmt(value)} "
            f"ratio={_fmt(ratio)}{share}{fails}{flag}"
        )
    summary = found["summary"]
    print(
        f"demographic parity difference {_fmt(summary['demographic_parity_difference'])}, "
        f"ratio {_fmt(summary['demographic_parity_ratio'])}; equalized odds difference "
        f"{_fmt(summary['equalized_odds_difference'])} (all groups; judged groups: "
        f"{_fmt(summary['judged_parity_difference'])}, {_fmt(summary['judged_parity_ratio'])}, "
        f"{_fmt(summary['judged_equalized_odds_difference'])}); four-fifths screen: "
        + {True: "passed", False: "FAILED", None: "not judged"}[summary["four_fifths_passed"]]
        + " (a screening rule, not a legal verdict)"
    )
    for note in found["notes"]:
        print(f"note: {note}")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
