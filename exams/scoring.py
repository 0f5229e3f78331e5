"""Scoring and quota arithmetic: pure functions, no database."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)


def allocate_quotas(count: int, weights: Mapping[K, int | float]) -> dict[K, int]:
    """Split `count` over the keys in proportion to `weights` (largest-remainder method).

    The quotas always add up to exactly `count`. Each key first gets the whole part of
    its exact share; the seats left over go to the largest fractional remainders, ties
    going to the larger weight and then to the key that comes first.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if not weights:
        if count:
            raise ValueError("cannot split a positive count over no weights")
        return {}
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    total = sum(Fraction(w) for w in weights.values())
    if total == 0:
        raise ValueError("weights must not all be zero")
    keys = list(weights)
    shares = {k: Fraction(weights[k]) * count / total for k in keys}
    quotas = {k: int(shares[k]) for k in keys}  # floor: shares are non-negative
    left = count - sum(quotas.values())
    by_remainder = sorted(
        range(len(keys)),
        key=lambda i: (-(shares[keys[i]] - quotas[keys[i]]), -Fraction(weights[keys[i]]), i),
    )
    for i in by_remainder[:left]:
        quotas[keys[i]] += 1
    return quotas


def item_is_correct(selected: Iterable[int], correct: Iterable[int]) -> bool:
    """All or nothing, as in the real exam: the selected set must equal the correct set."""
    chosen = set(selected)
    return bool(chosen) and chosen == set(correct)


def percent(correct: int, total: int) -> float:
    return round(100 * correct / total, 1) if total else 0.0


def meets(correct: int, total: int, pass_mark_percent: int) -> bool:
    # Exact arithmetic: 49/65 is 75.38% and meets 75; 48/65 is 73.8% and does not.
    return total > 0 and correct * 100 >= pass_mark_percent * total


@dataclass(frozen=True)
class ItemOutcome:
    domain_number: int
    domain_name: str
    task_code: str
    task_name: str
    selected: frozenset[int]
    correct: frozenset[int]
    flagged: bool = False

    @property
    def is_correct(self) -> bool:
        return item_is_correct(self.selected, self.correct)


def score_items(items: Sequence[ItemOutcome], *, pass_mark_percent: int) -> dict[str, Any]:
    """The report of an attempt: overall, per domain and per task statement."""
    domains: dict[int, dict[str, Any]] = {}
    tasks: dict[str, dict[str, Any]] = {}
    for item in items:
        d = domains.setdefault(
            item.domain_number,
            {"number": item.domain_number, "name": item.domain_name, "correct": 0, "total": 0},
        )
        t = tasks.setdefault(
            item.task_code,
            {
                "code": item.task_code,
                "name": item.task_name,
                "domain": item.domain_number,
                "correct": 0,
                "total": 0,
            },
        )
        for row in (d, t):
            row["total"] += 1
            row["correct"] += int(item.is_correct)
    for row in [*domains.values(), *tasks.values()]:
        row["percent"] = percent(row["correct"], row["total"])
        row["meets"] = meets(row["correct"], row["total"], pass_mark_percent)
    correct = sum(int(i.is_correct) for i in items)
    return {
        "correct": correct,
        "total": len(items),
        "percent": percent(correct, len(items)),
        "passed": meets(correct, len(items), pass_mark_percent),
        "pass_mark_percent": pass_mark_percent,
        "answered": sum(1 for i in items if i.selected),
        "flagged": sum(1 for i in items if i.flagged),
        "domains": [domains[n] for n in sorted(domains)],
        "tasks": [tasks[c] for c in sorted(tasks, key=_task_sort_key)],
    }


def weakest_domain(domains: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The report's weakest domain row: lowest percent, ties to the one with more questions."""
    return min(domains, key=lambda d: (d["percent"], -d["total"]), default=None)


def _task_sort_key(code: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in code.split("."))


def allocate_quotas_capped(
    count: int, weights: Mapping[K, int], capacity: Mapping[K, int]
) -> dict[K, int]:
    """Split `count` by weight like `allocate_quotas`, but give no key more than its
    capacity: what a full key cannot take is shared among the others by their weights.

    Raises ValueError when the keys with a positive weight cannot hold `count` in all.
    """
    quotas = dict.fromkeys(weights, 0)
    open_keys = [k for k in weights if weights[k] > 0 and capacity.get(k, 0) > 0]
    remaining = count
    while remaining and open_keys:
        share = allocate_quotas(remaining, {k: weights[k] for k in open_keys})
        full = [k for k in open_keys if quotas[k] + share[k] >= capacity[k]]
        if not full:
            for k in open_keys:
                quotas[k] += share[k]
            return quotas
        for k in full:
            remaining -= capacity[k] - quotas[k]
            quotas[k] = capacity[k]
        open_keys = [k for k in open_keys if k not in full]
    if remaining:
        raise ValueError(f"the keys can hold {count - remaining} of {count}")
    return quotas


# --- readiness with its uncertainty ---------------------------------------------------------

READINESS_CONFIDENCE = 0.95
READINESS_MIN_QUESTIONS = 40  # overall, before any verdict
READINESS_MIN_PER_DOMAIN = 5


@dataclass(frozen=True)
class Estimate:
    """A share correct with its interval, all in percent, and the questions behind it."""

    percent: float
    low: float
    high: float
    questions: int


def wilson_interval(correct: int, total: int) -> Estimate | None:
    """Share correct with its Wilson score interval at READINESS_CONFIDENCE (percent).

    None when total is 0. The interval is Wilson's (E. B. Wilson, "Probable inference, the
    law of succession, and statistical inference", JASA 22, 1927), which stays inside
    0-100% and behaves well for small samples and shares near 0 or 1, unlike the normal
    approximation; computed as `wilson_intervals` does (tests/exams/test_readiness.py and
    test_cohort.py check it against SciPy's `binomtest(...).proportion_ci(method="wilson")`).
    """
    return wilson_intervals([(correct, total)]).get((correct, total))


@dataclass(frozen=True)
class Readiness:
    domains: dict[int, Estimate | None]
    overall: Estimate | None
    verdict: str  # "ready", "borderline", "not yet" or "not enough data"


def readiness(
    counts: dict[int, tuple[int, int]],
    weights: dict[int, int],
    *,
    pass_mark: float,
    interval: Callable[[int, int], Estimate | None] = wilson_interval,
) -> Readiness:
    """Readiness per domain and overall, from (correct, total) per domain number.

    Overall is the blueprint-weighted mean of the domain shares (weights in percent, as the
    exam weights its domains); its interval is the same weighting of the domain Wilson
    bounds, a conservative interval for the weighted share. Verdict: "not enough data" under
    READINESS_MIN_QUESTIONS questions or READINESS_MIN_PER_DOMAIN in any domain; "ready"
    when the overall lower bound reaches the pass mark; "not yet" when the upper bound is
    below it; "borderline" otherwise.
    """
    domains = {n: interval(*counts.get(n, (0, 0))) for n in weights}
    total_questions = sum(t for _, t in counts.values())
    if any(e is None for e in domains.values()):
        return Readiness(domains, None, "not enough data")
    weight_sum = sum(weights.values())

    def weighted(field: str) -> float:
        return sum(getattr(domains[n], field) * w for n, w in weights.items()) / weight_sum

    overall = Estimate(weighted("percent"), weighted("low"), weighted("high"), total_questions)
    if total_questions < READINESS_MIN_QUESTIONS or any(
        e.questions < READINESS_MIN_PER_DOMAIN for e in domains.values()
    ):
        verdict = "not enough data"
    elif overall.low >= pass_mark:
        verdict = "ready"
    elif overall.high < pass_mark:
        verdict = "not yet"
    else:
        verdict = "borderline"
    return Readiness(domains, overall, verdict)


@functools.cache
def _wilson_z() -> float:
    """The standard normal quantile for READINESS_CONFIDENCE, two-sided (SciPy)."""
    from scipy.stats import norm

    return float(norm.ppf(1 - (1 - READINESS_CONFIDENCE) / 2))


def wilson_intervals(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Estimate | None]:
    """wilson_interval for many (correct, total) pairs at once: pair → Estimate (None when
    total is 0). Written out rather than calling SciPy's `binomtest(...).proportion_ci`
    per pair: that costs about 2 ms a call (it also computes an exact p-value), which is
    most of a dashboard request and seconds for a whole cohort.

    The same interval as wilson_interval (Wilson, JASA 22, 1927, without continuity
    correction, at READINESS_CONFIDENCE), in closed form over NumPy arrays: with
    p = correct/total, n = total, z = the normal quantile at 1 - (1 - confidence)/2 (SciPy),
    centre = (p + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p(1-p)/n + z²/4n²).
    tests/exams/test_cohort.py checks it against SciPy's binomtest pair by pair.
    """
    import numpy as np

    unique = sorted({(c, t) for c, t in pairs})
    out: dict[tuple[int, int], Estimate | None] = {(c, t): None for c, t in unique if t <= 0}
    valid = [(c, t) for c, t in unique if t > 0]
    if not valid:
        return out
    correct = np.array([c for c, _ in valid], dtype=float)
    total = np.array([t for _, t in valid], dtype=float)
    z = _wilson_z()
    p = correct / total
    denominator = 1 + z**2 / total
    centre = (p + z**2 / (2 * total)) / denominator
    half = z / denominator * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2))
    low = np.clip(centre - half, 0, 1)
    high = np.clip(centre + half, 0, 1)
    for i, (c, t) in enumerate(valid):
        out[(c, t)] = Estimate(100 * c / t, 100 * float(low[i]), 100 * float(high[i]), t)
    return out
