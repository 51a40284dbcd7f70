"""`monitor fairness`: metrics by group, disparity and the four-fifths screen.

Two sources: a data file (`--data FILE --label COL --prediction COL | --score COL
--threshold T --sensitive COL[,COL...]`) or a model's logs (`--model ID`, labeled
predictions only, sensitive features default to the model's configured ones). Several
sensitive features form intersectional groups (race & sex), or with `--per-attribute`
one audit each (its own groups, reference group, disparities and screen); the text and
JSON output are in `monitor.cli.fairness_output`.

Exit codes: 0 done (whatever the screen found), 2 bad input, 1 internal error, and 3
when `--fail-on-disparity` is given and the four-fifths screen failed (a group outside
[tau, 1/tau] of the reference; per attribute: in any attribute). A screen that could
not be judged (no group large enough) does not fail the gate: `four_fifths_passed` is
null and a note says why.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from monitor.cli.common import EXIT_OK, print_json, settings, timestamp
from monitor.cli.fairness_output import Judged, document, print_text, references
from monitor.cli.tables import add_role_arguments, role_names
from monitor.core.errors import InputError
from monitor.queries.column_roles import ColumnUse

NAME = "fairness"
HELP = "fairness by group: metrics, disparity to a reference group, four-fifths screen"
EXIT_DISPARITY = 3
"""Exit code of a failed four-fifths screen under --fail-on-disparity."""

_FILE_ONLY: tuple[str, ...] = ("label", "prediction", "score", "threshold", "weight", "task")
_FILE_ONLY += ("positive_label", "id", "timestamp", "ignore")
_LOG_ONLY = ("since", "until", "versions", "bucket")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="FILE", help="a CSV, Parquet or JSONL file")
    source.add_argument("--model", metavar="ID", help="judge this model's labeled logs")
    parser.add_argument("--label", metavar="COL", help="true label column (--data)")
    parser.add_argument("--prediction", metavar="COL", help="prediction column (--data)")
    parser.add_argument("--score", metavar="COL", help="score column, with --threshold (--data)")
    parser.add_argument("--threshold", type=float, help="prediction = score >= T")
    parser.add_argument("--weight", metavar="COL", help="sample weight column (--data)")
    add_role_arguments(parser, targets=False)
    parser.add_argument("--task", choices=("binary", "regression"), help="default binary")
    parser.add_argument("--positive-label", help="the positive class (--data; default 1)")
    parser.add_argument(
        "--sensitive",
        metavar="COL[,COL...]",
        help="sensitive feature(s); several give intersectional groups, or one audit each "
        "with --per-attribute (--model: default the configured sensitive_features)",
    )
    parser.add_argument(
        "--per-attribute",
        action="store_true",
        help="audit each sensitive feature on its own (its groups, reference group, "
        "disparities and screen), as Aequitas does, instead of their intersections",
    )
    parser.add_argument(
        "--reference-group",
        action="append",
        metavar="largest|best|overall|VALUE",
        help="what disparities divide by (default largest); a group is named by its "
        "values joined with ' & ', e.g. 'Caucasian & Male'; with --per-attribute, "
        "ATTR=VALUE (repeatable, e.g. race=Caucasian) and one rule for the others",
    )
    parser.add_argument("--metric", help="screen metric (default selection_rate; mae)")
    parser.add_argument("--tau", type=float, help="tolerance of the screen (default 0.8)")
    parser.add_argument("--bootstrap", type=int, default=0, metavar="N", help="replicates")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--ci-level", type=float, default=0.95, help="default 0.95")
    parser.add_argument("--min-group-size", type=int, default=None, metavar="N")
    parser.add_argument("--min-class-count", type=int, default=None, metavar="N")
    parser.add_argument("--since", type=timestamp, help="window start (--model; default all)")
    parser.add_argument("--until", type=timestamp, help="window end (--model)")
    parser.add_argument("--versions", metavar="V[,V...]", help="only these versions (--model)")
    parser.add_argument(
        "--bucket", choices=("hour", "day", "week"), help="trend bucket (--model; default day)"
    )
    parser.add_argument(
        "--fail-on-disparity",
        action="store_true",
        help=f"exit {EXIT_DISPARITY} when the four-fifths screen fails (a CI gate)",
    )
    parser.add_argument("--json", action="store_true")


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def run(args: argparse.Namespace) -> int:
    from monitor.metrics.fairness import audit as fairness

    if not 0 < args.ci_level < 1:
        raise InputError("--ci-level must be between 0 and 1")
    options: dict[str, Any] = {
        "metric": args.metric,
        "min_group_size": _default(args.min_group_size, fairness.DEFAULT_MIN_GROUP_SIZE),
        "min_class_count": _default(args.min_class_count, fairness.DEFAULT_MIN_CLASS_COUNT),
        "bootstrap": args.bootstrap,
        "ci_level": args.ci_level,
        "seed": args.seed,
    }
    if args.data is not None:
        _reject(args, _LOG_ONLY, "--data")
        found, passed = _from_file(args, options)
    else:
        _reject(args, _FILE_ONLY, "--model")
        found, passed = _from_logs(args, options)
    if args.json:
        print_json(found)
    else:
        print_text(found)
    if passed is None:
        print("note: the four-fifths screen could not be judged", file=sys.stderr)
    if args.fail_on_disparity and passed is False:
        return EXIT_DISPARITY
    return EXIT_OK


def _default(value: int | None, default: int) -> int:
    return default if value is None else value


def _reject(args: argparse.Namespace, names: tuple[str, ...], form: str) -> None:
    for name in names:
        if getattr(args, name) is not None:
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag} does not apply with {form}")


def _from_file(
    args: argparse.Namespace, options: dict[str, Any]
) -> tuple[dict[str, Any], bool | None]:
    from monitor.metrics.fairness.audit import DEFAULT_TAU
    from monitor.queries.fairness import FileTarget, load_file, load_file_by_attribute

    use, sensitive = _file_roles(args)
    roles = use.roles
    target = FileTarget(
        label=str(roles.label),
        prediction=roles.prediction,
        score=roles.score,
        threshold=args.threshold,
        weight=args.weight,
        task=args.task or "binary",
        positive_label=args.positive_label or "1",
    )
    path = Path(args.data)
    tables = (
        load_file_by_attribute(path, target, sensitive)
        if args.per_attribute
        else {"": load_file(path, sensitive=sensitive, **dataclasses.asdict(target))}
    )
    tau = DEFAULT_TAU if args.tau is None else args.tau
    judged = _judge(args, tables, sensitive, options | {"tau": tau})
    result, passed = document({"data": str(args.data)}, judged)
    result["columns"] = use.document()
    return result, passed


def _judge(
    args: argparse.Namespace,
    tables: dict[str, Any],
    sensitive: list[str],
    options: dict[str, Any],
) -> Judged:
    """The intersectional audit of the one table (`tables` {"": table}), or with
    --per-attribute the audit of each attribute's table (`tables` {attribute: table})."""
    from monitor.metrics.fairness.attributes import audit_attributes
    from monitor.metrics.fairness.audit import audit

    rule, chosen = references(args.reference_group, sensitive, per_attribute=args.per_attribute)
    if args.per_attribute:
        return audit_attributes(tables, references=chosen, reference=rule, **options)
    return audit(tables[""], reference=rule, **options)


def _file_roles(args: argparse.Namespace) -> tuple[ColumnUse, list[str]]:
    """The file's roles: the flags, checked against its columns (one error line naming
    the closest column), else the default names (`label`, `prediction`, or `probability`
    with --threshold); and the sensitive columns."""
    from monitor.queries import column_roles
    from monitor.queries.fairness import file_columns

    path = Path(args.data)
    names = file_columns(path)
    roles = role_names(args)
    column_roles.check_names(roles, names, path.name)
    sensitive = _names(args.sensitive)
    if not sensitive:
        raise InputError("--data needs --sensitive COL[,COL...]")
    left_out = {name: role for role, name in roles.left_out()}
    for flag, name in [("--sensitive", s) for s in sensitive] + [("--weight", args.weight)]:
        if name is None:
            continue
        if name not in names:
            raise column_roles.unknown_column(flag, name, names, path.name)
        if name in left_out:
            raise InputError(f"column {name!r} is both {flag[2:]} and the {left_out[name]} column")
    taken = {name for _, name in roles.named()}
    defaults: list[column_roles.TargetRole] = []

    def default(role: column_roles.TargetRole) -> str | None:
        name = column_roles.DEFAULT_NAMES[role]
        if name in names and name not in taken:
            defaults.append(role)
            return name
        return None

    label = roles.label or default("label")
    if label is None:
        raise InputError("--data needs --label COL (the file has no column named 'label')")
    prediction, score = roles.prediction, roles.score
    if prediction is None and score is None:
        prediction = default("prediction")
        if prediction is None and args.threshold is not None:
            score = default("score")
    if args.threshold is not None and score is None:
        raise InputError("--threshold goes with --score")
    roles = dataclasses.replace(roles, label=label, prediction=prediction, score=score)
    excluded = column_roles.split_roles(roles)
    return ColumnUse(roles, tuple(defaults), excluded), sensitive


def _from_logs(
    args: argparse.Namespace, options: dict[str, Any]
) -> tuple[dict[str, Any], bool | None]:
    from monitor.core import catalog
    from monitor.core.store import LogStore
    from monitor.metrics.fairness.trend import trend
    from monitor.queries.fairness import log_slices, log_table
    from monitor.reports.fairness_export import trend_document

    config = settings(args)
    model = config.model(args.model)
    sensitive = _names(args.sensitive) or list(model.sensitive_features)
    if not sensitive:
        raise InputError(f"model {args.model!r} has no sensitive_features: pass --sensitive")
    tau = config.thresholds.fairness_tau if args.tau is None else args.tau
    versions = _names(args.versions)
    groupings = {a: [a] for a in sensitive} if args.per_attribute else {"": sensitive}
    store = LogStore(config.data_dir)
    try:
        info = next((m for m in catalog.inventory(store) if m.model_id == args.model), None)
        if info is None:
            raise InputError(f"no predictions of model {args.model!r} under {config.data_dir}")
        window = catalog.Window(args.since or info.first_seen, args.until or info.last_seen)
        if window.start > window.end:
            raise InputError("--since is after --until")
        tables = {
            name: log_table(store, model, sensitive=features, window=window, versions=versions)
            for name, features in groupings.items()
        }
        judged = _judge(args, tables, sensitive, options | {"tau": tau})
        slices = {
            name: log_slices(
                store,
                model,
                sensitive=features,
                window=window,
                versions=versions,
                bucket=args.bucket or "day",
                by_version=True,
            )
            for name, features in groupings.items()
        }
    finally:
        store.close()
    reports = {a.attribute: a.report for a in judged} if isinstance(judged, tuple) else {"": judged}
    trends = {
        name: trend_document(
            trend(
                slices[name],
                metric=report.metric,
                reference=report.reference,
                reference_group=report.reference_group,
                tau=tau,
                min_group_size=report.min_group_size,
                min_class_count=report.min_class_count,
            ),
            report.features,
        )
        for name, report in reports.items()
    }
    source = {
        "model": args.model,
        "since": window.start,
        "until": window.end,
        "versions": versions,
        "bucket": args.bucket or "day",
    }
    return document(source, judged, trends)
