"""The drift method registry (no scipy import: the CLI lists the names cheaply).

Each method is one descriptor: name, the feature kinds it applies to, its default
threshold and whether it gives a p-value. Its function lives in `monitor.metrics.drift.methods`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["numeric", "categorical", "binary"]
KINDS: Final[tuple[Kind, ...]] = ("numeric", "categorical", "binary")
Correction = Literal["bh", "bonferroni", "none"]
CORRECTIONS: Final[tuple[Correction, ...]] = ("bh", "bonferroni", "none")


@dataclass(frozen=True)
class Method:
    """A drift method: which kinds it applies to, its default threshold, and whether its
    score is a test statistic with a p-value (then the threshold is the significance level
    for the p-value) or a distance (drift when the distance is at least the threshold)."""

    name: str
    kinds: frozenset[Kind]
    threshold: float
    gives_p_value: bool
    description: str
    relative_to_std: bool = False
    """The threshold is in units of the reference standard deviation (raw Wasserstein)."""


_NUM: Final[frozenset[Kind]] = frozenset({"numeric"})
_ALL: Final[frozenset[Kind]] = frozenset({"numeric", "categorical", "binary"})
_CAT: Final[frozenset[Kind]] = frozenset({"categorical", "binary"})
_BIN: Final[frozenset[Kind]] = frozenset({"binary"})

METHODS: Final[dict[str, Method]] = {
    m.name: m
    for m in (
        Method("ks", _NUM, 0.05, True, "two-sample Kolmogorov-Smirnov test (D, p-value)"),
        Method("psi", _ALL, 0.2, False, "population stability index over reference deciles"),
        Method(
            "wasserstein",
            _NUM,
            0.1,
            False,
            "Wasserstein-1 distance (feature units)",
            relative_to_std=True,
        ),
        Method("wasserstein_norm", _NUM, 0.1, False, "Wasserstein-1 / reference std (no units)"),
        Method("jensenshannon", _ALL, 0.1, False, "Jensen-Shannon distance, base 2, in [0, 1]"),
        Method("chisquare", _CAT, 0.05, True, "chi-square homogeneity test of the 2 x k table"),
        Method("ztest", _BIN, 0.05, True, "two-proportion z-test"),
        Method("hellinger", _ALL, 0.1, False, "Hellinger distance in [0, 1]"),
        Method("kl", _ALL, 0.1, False, "Kullback-Leibler divergence KL(current || reference)"),
    )
}

KIND_TEST: Final[dict[Kind, str]] = {"numeric": "ks", "categorical": "chisquare", "binary": "ztest"}
"""The significance test run for every feature of a kind (corrected across features)."""
KIND_EFFECT: Final[dict[Kind, str]] = {
    "numeric": "wasserstein_norm",
    "categorical": "jensenshannon",
    "binary": "jensenshannon",
}
"""The effect size that must reach its threshold when the chosen method is a test."""
SMALL_SAMPLE: Final = 1000
"""`auto` picks the kind's test at or below this many values on either side, else the
kind's effect size with its threshold (p-values are always tiny on large samples)."""


def methods_for(kind: Kind) -> list[Method]:
    return [m for m in METHODS.values() if kind in m.kinds]


def auto_method(kind: Kind, n_reference: int, n_current: int) -> str:
    if min(n_reference, n_current) <= SMALL_SAMPLE:
        return KIND_TEST[kind]
    return KIND_EFFECT[kind]
