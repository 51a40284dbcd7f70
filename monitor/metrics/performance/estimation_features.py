"""Model inputs as a numeric matrix for a tree model fitted on the reference (the loss
model of `estimation_regression`): numbers (and booleans) as they are, text and other
categories as codes of the reference's categories, missing values as NaN.

A category the reference did not have is coded as missing (the tree model sends it the
way its missing values went) and counted, so that the caller can warn about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from monitor.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]

MAX_CATEGORIES: Final = 250
"""Categories per feature kept (the most frequent): scikit-learn's histogram gradient
boosting takes fewer than 255 category codes; the others count as missing."""


@dataclass(frozen=True)
class FeatureCoding:
    """How one input column becomes a numeric column."""

    name: str
    categories: tuple[str, ...] | None
    """None: a number; else the reference's categories, coded 0, 1, ... in this order."""


@dataclass(frozen=True)
class Encoded:
    matrix: FloatArray
    """Rows x features."""
    unseen: tuple[tuple[str, int], ...]
    """(feature, rows) whose category the reference did not have (coded missing)."""


def learn_codings(features: pd.DataFrame) -> tuple[FeatureCoding, ...]:
    """Each column's coding, learned from the reference's `features`."""
    import pandas as pd

    codings = []
    for name in features.columns:
        column = features[name]
        label = str(name)
        if pd.api.types.is_datetime64_any_dtype(column) or isinstance(column.dtype, pd.PeriodDtype):
            raise InputError(
                f"feature {label!r} is a date or time: leave it out of the features (the "
                "loss model learns the error from the inputs, not from when they came)"
            )
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            codings.append(FeatureCoding(label, None))
            continue
        counts = column.dropna().astype("string").value_counts(sort=True)
        kept = sorted(counts.index[:MAX_CATEGORIES].tolist())
        codings.append(FeatureCoding(label, tuple(kept)))
    return tuple(codings)


def encode(features: pd.DataFrame, codings: Sequence[FeatureCoding]) -> Encoded:
    """The matrix of `features` under the reference's `codings` (columns in their order)."""
    import pandas as pd

    missing = [c.name for c in codings if c.name not in features.columns]
    if missing:
        raise InputError(
            f"features {missing} of the reference are missing here: pass the same feature "
            "columns as for the reference"
        )
    columns: list[FloatArray] = []
    unseen: list[tuple[str, int]] = []
    for coding in codings:
        column = features[coding.name]
        if coding.categories is None:
            try:
                values = pd.to_numeric(column, errors="raise").astype(np.float64)
            except (TypeError, ValueError):
                raise InputError(
                    f"feature {coding.name!r} was a number in the reference but holds text "
                    "here: pass the same columns, with the same types, as for the reference"
                ) from None
            columns.append(np.asarray(values, dtype=np.float64))
            continue
        present = column.notna().to_numpy()
        categories = pd.Index(list(coding.categories), dtype="string")
        codes = categories.get_indexer(pd.Index(column.astype("string"))).astype(np.float64)
        codes[codes < 0] = np.nan  # missing, or a category the reference did not have
        new = int((present & np.isnan(codes)).sum())
        if new:
            unseen.append((coding.name, new))
        columns.append(codes)
    matrix = np.column_stack(columns) if columns else np.empty((len(features), 0))
    return Encoded(matrix, tuple(unseen))


def categorical_mask(codings: Sequence[FeatureCoding]) -> npt.NDArray[np.bool_]:
    """Which columns of the encoded matrix hold category codes."""
    return np.array([c.categories is not None for c in codings], dtype=np.bool_)
