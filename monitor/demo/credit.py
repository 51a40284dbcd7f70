"""credit-risk: a binary default classifier, its three versions and its injected problems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from monitor.demo.batch import Column, PredictionBatch, error_column
from monitor.demo.serving import Labels, draw_errors, draw_latency, label_arrival
from monitor.demo.spec import (
    AGE_GROUPS,
    CREDIT,
    EMPLOYMENT_TYPES,
    GENDERS,
    NEW_EMPLOYMENT_TYPE,
    REGIONS,
)
from monitor.demo.timeline import BoolArray, FloatArray, IntArray, Scenario, in_window, progress

EMPLOYMENT = (*EMPLOYMENT_TYPES, NEW_EMPLOYMENT_TYPE)
_SALARIED, _SELF_EMPLOYED, _UNEMPLOYED, _RETIRED, _GIG = range(5)
_FEMALE = GENDERS.index("female")
_CHANNELS = ("web", "mobile", "branch")

BASE_DEFAULT_LOGIT = -2.15  # about 20% defaults before the label shift
LABEL_SHIFT_LOGIT = 1.0  # about 35% defaults during it
INCOME_DRIFT = 0.6  # income mean +60% by the end of the span
GIG_SHARE = 0.12
MISSING_BASE, MISSING_SPIKE = 0.01, 0.4
CANARY_SHARE = 0.1
V3_FEMALE_BIAS = 1.5  # logits added to v3's score for gender=female
_MODEL_NOISE = (0.7, 0.5, 1.1)  # per version: v1, v2, v3
_MODEL_SHRINK = (1.0, 1.0, 0.6)  # v3 under-uses the real signal
_EMPLOYMENT_RISK = np.array([0.0, 0.35, 1.2, 0.3, 0.7])
_INCOME_FACTOR = np.array([1.0, 1.1, 0.35, 0.6, 0.75])


@dataclass(frozen=True)
class Applicants:
    income: FloatArray
    age: FloatArray
    loan_amount: FloatArray
    credit_score: FloatArray  # the true score; `score_missing` hides it from the log
    score_missing: BoolArray
    debt_ratio: FloatArray
    employment: IntArray
    region: IntArray
    gender: IntArray

    @property
    def age_group(self) -> IntArray:
        return np.searchsorted(np.array([25.5, 40.5, 60.5]), self.age).astype(np.int64)

    def columns(self) -> tuple[Column, ...]:
        """Feature columns in the order of spec.CREDIT.features."""
        return (
            Column(self.income),
            Column(self.age, integral=True),
            Column(self.loan_amount),
            Column(self.credit_score, null=self.score_missing, integral=True),
            Column(self.debt_ratio),
            Column(self.employment, categories=EMPLOYMENT),
            Column(self.region, categories=REGIONS),
            Column(self.gender, categories=GENDERS),
            Column(self.age_group, categories=AGE_GROUPS),
        )


def draw_applicants(
    rng: np.random.Generator, n: int, drift: FloatArray, gig: BoolArray, missing_share: FloatArray
) -> Applicants:
    """Applicant features; `drift` (0..1) raises income, `gig` enables the new category."""
    age = np.clip(np.round(rng.normal(41.0, 12.5, n)), 18, 85)
    gender = rng.choice(len(GENDERS), size=n, p=[0.48, 0.49, 0.03]).astype(np.int64)
    employment = rng.choice(4, size=n, p=[0.62, 0.18, 0.08, 0.12]).astype(np.int64)
    employment = np.where((age > 62) & (rng.random(n) < 0.6), _RETIRED, employment)
    employment = np.where((employment == _RETIRED) & (age < 50), _SALARIED, employment)
    employment = np.where(gig & (rng.random(n) < GIG_SHARE), _GIG, employment)
    region = rng.choice(len(REGIONS), size=n, p=[0.22, 0.25, 0.18, 0.2, 0.15]).astype(np.int64)
    income = np.exp(rng.normal(np.log(52_000.0), 0.5, n)) * _INCOME_FACTOR[employment]
    income = np.clip(
        income * (1.0 + 0.004 * (age - 41.0)) * (1.0 + INCOME_DRIFT * drift), 3_000.0, 1e6
    )
    loan = np.exp(rng.normal(np.log(14_000.0), 0.6, n)) * np.sqrt(income / 52_000.0)
    loan = np.clip(loan, 500.0, 400_000.0)
    score = np.clip(np.round(rng.normal(670.0 + 40.0 * np.log(income / 52_000.0), 65.0)), 300, 850)
    debt = np.clip(rng.beta(2.2, 5.5, n) + 0.15 * loan / income, 0.0, 1.5)
    return Applicants(
        income=np.round(income, 2),
        age=age,
        loan_amount=np.round(loan, 2),
        credit_score=score,
        score_missing=rng.random(n) < missing_share,
        debt_ratio=np.round(debt, 4),
        employment=employment,
        region=region,
        gender=gender,
    )


def risk_logit(a: Applicants, credit_score: FloatArray) -> FloatArray:
    """Default log-odds from the features (no gender term: the truth is fair)."""
    result: FloatArray = (
        BASE_DEFAULT_LOGIT
        - 1.0 * np.log(a.income / 52_000.0)
        + 0.6 * np.log(a.loan_amount / 14_000.0)
        - 0.012 * (credit_score - 670.0)
        + 3.0 * (a.debt_ratio - 0.32)
        + _EMPLOYMENT_RISK[a.employment]
        - 0.015 * (a.age - 41.0)
    )
    return result


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return result


def assign_versions(rng: np.random.Generator, times: IntArray, sc: Scenario) -> IntArray:
    """0 = v1, 1 = v2 (rolled out linearly over sc.v2_rollout), 2 = v3 (10% canary)."""
    rollout = progress(times, sc.v2_rollout)
    version = (rng.random(len(times)) < rollout).astype(np.int64)
    canary = in_window(times, sc.canary) & (rng.random(len(times)) < CANARY_SHARE)
    return np.where(canary, 2, version)


def score(rng: np.random.Generator, a: Applicants, version: IntArray) -> FloatArray:
    """Each version's default probability; v3 is noisier and biased against women."""
    imputed = np.where(a.score_missing, 670.0, a.credit_score)
    signal = risk_logit(a, imputed) - BASE_DEFAULT_LOGIT
    shrink = np.array(_MODEL_SHRINK)[version]
    noise = rng.normal(0.0, 1.0, len(version)) * np.array(_MODEL_NOISE)[version]
    bias = np.where((version == 2) & (a.gender == _FEMALE), V3_FEMALE_BIAS, 0.0)
    return np.round(_sigmoid(BASE_DEFAULT_LOGIT + shrink * signal + noise + bias), 6)


def credit_batch(
    rng: np.random.Generator, times: IntArray, first_number: int, sc: Scenario
) -> tuple[PredictionBatch, Labels]:
    """One day of credit-risk predictions and the true labels behind them."""
    n = len(times)
    applicants = draw_applicants(
        rng,
        n,
        drift=progress(times, sc.income_drift) * in_window(times, sc.income_drift),
        gig=in_window(times, sc.new_category),
        missing_share=np.where(in_window(times, sc.missing_spike), MISSING_SPIKE, MISSING_BASE),
    )
    version = assign_versions(rng, times, sc)
    probability = score(rng, applicants, version)
    latency = draw_latency(rng, times, sc.latency_spike) * np.where(version == 2, 1.1, 1.0)
    errors = draw_errors(rng, times, None)
    failed = errors >= 0
    true_logit = risk_logit(applicants, applicants.credit_score)
    true_logit = true_logit + LABEL_SHIFT_LOGIT * in_window(times, sc.label_shift)
    label = (rng.random(n) < _sigmoid(true_logit)).astype(np.int64)
    arrival = label_arrival(rng, times, min_days=1.0, mean_extra_days=1.3, max_days=7.0)
    batch = PredictionBatch(
        spec=CREDIT,
        numbers=np.arange(first_number, first_number + n, dtype=np.int64),
        timestamp_us=times,
        version=Column(version, categories=CREDIT.versions),
        features=applicants.columns(),
        prediction=Column((probability >= 0.5).astype(np.int64), null=failed, integral=True),
        probability=np.where(failed, np.nan, probability),
        latency_ms=np.round(latency, 2),
        error=error_column(errors),
        request_number=rng.integers(0, 10**12, n, dtype=np.int64),
        channel=Column(
            rng.choice(3, size=n, p=[0.6, 0.3, 0.1]).astype(np.int64), categories=_CHANNELS
        ),
    )
    labeled = ~failed & (rng.random(n) < 0.9)
    return batch, Labels(Column(label, integral=True), arrival, labeled)


def credit_reference(rng: np.random.Generator, rows: int) -> pa.Table:
    """Training data: the pre-drift population scored by v1, with plain column names."""
    zero = np.zeros(rows)
    applicants = draw_applicants(
        rng, rows, drift=zero, gig=zero.astype(np.bool_), missing_share=zero + MISSING_BASE
    )
    probability = score(rng, applicants, np.zeros(rows, np.int64))
    truth = _sigmoid(risk_logit(applicants, applicants.credit_score))
    label = (rng.random(rows) < truth).astype(np.int64)
    names = [name for name, _ in CREDIT.features]
    arrays = [c.to_arrow() for c in applicants.columns()]
    arrays += [
        pa.array(label),
        pa.array((probability >= 0.5).astype(np.int64)),
        pa.array(probability),
    ]
    return pa.Table.from_arrays(arrays, names=[*names, "label", "prediction", "probability"])
