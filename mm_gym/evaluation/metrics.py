"""Pure performance and statistics functions: Sharpe ratio (also under autocorrelation),
drawdown, confidence intervals, paired comparisons and Holm's multiple-test adjustment. The
claim over training runs (IQM and probability of improvement by rliable) is
``mm_gym.evaluation.protocol``.

The t distribution comes from SciPy when it is installed; otherwise from the regularised
incomplete beta function computed here by its continued fraction (Numerical Recipes, 6.4), so
``mm_gym`` needs no SciPy.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "MeanCI",
    "PairedDifference",
    "holm",
    "long_run_variance",
    "max_drawdown",
    "mean_ci",
    "paired_difference",
    "pairing_variance_ratio",
    "regularized_incomplete_beta",
    "sharpe",
    "student_t_cdf",
    "student_t_ppf",
    "t_cdf",
    "t_ppf",
    "t_two_sided_p",
]

SECONDS_PER_HOUR = 3600.0


# ----------------------------------------------------------------------------- performance
def long_run_variance(values: Sequence[float] | np.ndarray, lags: int = 0) -> float:
    """Newey-West estimate of the long-run variance ``sum_k gamma_k`` of a stationary series:
    ``gamma_0 + 2 sum_{k=1..L} (1 - k / (L + 1)) gamma_k`` (Bartlett weights, never negative).

    Autocovariances use the divisor ``n - 1``, so ``lags=0`` is the sample variance
    (``ddof=1``). ``n`` times the result estimates the variance of the series' sum over ``n``
    steps. Non-finite values are dropped; NaN with fewer than two values.
    """
    if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or lags < 0:
        raise ValueError(f"lags={lags!r}: expected an integer >= 0")
    x = _finite(values)
    n = x.size
    if n < 2:
        return math.nan
    d = x - x.mean()
    total = float(d @ d)
    for k in range(1, min(int(lags), n - 1) + 1):
        total += 2.0 * (1.0 - k / (lags + 1.0)) * float(d[k:] @ d[:-k])
    return max(total, 0.0) / (n - 1)


def sharpe(step_pnl: Sequence[float] | np.ndarray, dt: float, lags: int = 0) -> float:
    """Sharpe ratio of per-step PnL scaled to one hour: ``mean / sd * sqrt(3600 / dt)``.

    ``dt`` is the step length in seconds. ``lags=0``: ``sd`` is the sample standard deviation,
    right for uncorrelated steps (e.g. the PnL of whole, non-overlapping hours or episodes, with
    ``dt`` their length). ``lags > 0``: ``sd**2`` is ``long_run_variance(step_pnl, lags)``, so
    the scaling stays right when the steps are autocorrelated (equity changes marked at the mid
    revert: the i.i.d. scaling understates the hourly Sharpe). Zero when the PnL never varies
    and NaN with fewer than two steps.
    """
    x = _finite(step_pnl)
    if x.size < 2:
        return math.nan
    if float(x.std(ddof=1)) <= 1e-12 * max(1.0, float(np.abs(x).max())):
        return 0.0
    var = long_run_variance(x, lags)
    if var <= 0.0:
        return math.nan
    return float(x.mean()) / math.sqrt(var) * math.sqrt(SECONDS_PER_HOUR / dt)


def max_drawdown(equity: Sequence[float] | np.ndarray) -> float:
    """Largest fall of an equity path below its running peak (>= 0, in the path's units).

    The path's first value counts as a peak: pass the starting equity first.
    """
    x = np.asarray(equity, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 0.0
    return float(np.max(np.maximum.accumulate(x) - x))


# ----------------------------------------------------------------------------- t distribution
def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """``I_x(a, b)``, by the continued fraction (modified Lentz), for ``a, b > 0``."""
    if not (a > 0 and b > 0):
        raise ValueError(f"a={a}, b={b}: both must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # the fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def student_t_cdf(t: float, df: float) -> float:
    """CDF of Student's t with ``df`` degrees of freedom (this module's implementation)."""
    if not df > 0:
        raise ValueError(f"df={df}: must be positive")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_incomplete_beta(0.5 * df, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def student_t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t (inverse of ``student_t_cdf``), by bracketing and bisection."""
    if not 0.0 < q < 1.0:
        if q == 0.0:
            return -math.inf
        if q == 1.0:
            return math.inf
        raise ValueError(f"q={q}: must be in [0, 1]")
    if q < 0.5:
        return -student_t_ppf(1.0 - q, df)
    if q == 0.5:
        return 0.0
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < q:
        lo, hi = hi, hi * 2.0
        if hi > 1e300:
            return math.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if student_t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def _scipy_t():
    try:
        from scipy import stats
    except ImportError:
        return None
    return stats.t


def t_cdf(t: float, df: float) -> float:
    """Student's t CDF: SciPy's when installed, else ``student_t_cdf``."""
    dist = _scipy_t()
    return float(dist.cdf(t, df)) if dist is not None else student_t_cdf(t, df)


def t_ppf(q: float, df: float) -> float:
    """Student's t quantile: SciPy's when installed, else ``student_t_ppf``."""
    dist = _scipy_t()
    return float(dist.ppf(q, df)) if dist is not None else student_t_ppf(q, df)


def t_two_sided_p(t: float, df: float) -> float:
    """``P(|T| >= |t|)`` for Student's t, without the cancellation of ``1 - cdf``."""
    dist = _scipy_t()
    if dist is not None:
        return float(2.0 * dist.sf(abs(t), df))
    if math.isinf(t):
        return 0.0
    return regularized_incomplete_beta(0.5 * df, 0.5, df / (df + t * t))


# ----------------------------------------------------------------------------- inference
@dataclasses.dataclass(frozen=True)
class MeanCI:
    """A sample mean with its t-based confidence interval (NaN bounds with n < 2)."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    @property
    def half_width(self) -> float:
        return 0.5 * (self.high - self.low)

    def __str__(self) -> str:
        if math.isnan(self.half_width):
            return f"{self.mean:.4g}"
        return f"{self.mean:.4g} ± {self.half_width:.2g}"


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """Mean of ``a - b`` over pairs, its confidence interval and the paired t-test p-value."""

    mean_diff: float
    low: float
    high: float
    p_value: float
    n: int
    confidence: float = 0.95


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence}: must be in (0, 1)")


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> MeanCI:
    """Mean and t-based confidence interval of the finite values (NaN and inf are dropped)."""
    _check_confidence(confidence)
    x = _finite(values)
    n = int(x.size)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(x.mean())
    if n < 2:
        return MeanCI(mean, math.nan, math.nan, n, confidence)
    half = t_ppf(0.5 + 0.5 * confidence, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return MeanCI(mean, mean - half, mean + half, n, confidence)


def paired_difference(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> PairedDifference:
    """Paired comparison of ``a`` and ``b`` (e.g. agent and baseline on the same seeds).

    Pairs where either value is not finite are dropped. Two-sided paired t-test of
    ``mean(a - b) == 0``.
    """
    _check_confidence(confidence)
    xa, xb = _pairs(a, b)
    d = xa - xb
    n = int(d.size)
    if n == 0:
        return PairedDifference(math.nan, math.nan, math.nan, math.nan, 0, confidence)
    mean = float(d.mean())
    if n < 2:
        return PairedDifference(mean, math.nan, math.nan, math.nan, n, confidence)
    se = float(d.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:
        p = 1.0 if mean == 0.0 else 0.0
        return PairedDifference(mean, mean, mean, p, n, confidence)
    half = t_ppf(0.5 + 0.5 * confidence, n - 1) * se
    p = t_two_sided_p(mean / se, n - 1)
    return PairedDifference(mean, mean - half, mean + half, min(max(p, 0.0), 1.0), n, confidence)


def pairing_variance_ratio(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> float:
    """``var(a - b) / (var(a) + var(b))`` over the finite pairs: what pairing on common random
    numbers leaves of the variance of an unpaired difference (1: no gain; below 1: the pairs
    are positively correlated). NaN with fewer than two pairs or no variance."""
    xa, xb = _pairs(a, b)
    if xa.size < 2:
        return math.nan
    den = float(xa.var(ddof=1) + xb.var(ddof=1))
    return float((xa - xb).var(ddof=1)) / den if den > 0 else math.nan


def _pairs(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of ``a`` and ``b`` where both are finite."""
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples of lengths {xa.size} and {xb.size}: must match")
    ok = np.isfinite(xa) & np.isfinite(xb)
    return xa[ok], xb[ok]


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order; NaN stays NaN and is not counted).

    Rejecting where the adjusted p-value is below alpha controls the family-wise error rate
    at alpha. ``p_(i)`` (ascending, of ``m``) becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``.
    """
    p = np.asarray(p_values, dtype=np.float64).ravel()
    out = np.full(p.shape, math.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out
