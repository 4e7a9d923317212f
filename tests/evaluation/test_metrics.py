"""Pure metric functions and the Student-t distribution implemented without SciPy.

Reference values of the t distribution were computed with mpmath at 30 digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mm_gym.evaluation import metrics as M

# (t, df, cdf)
T_CDF = [
    (0.5, 3, 0.6742760175759245),
    (-1.7, 5, 0.07493839342416195),
    (2.5, 12, 0.9860423002143374),
    (-3.0, 7, 0.00997106306599627),
    (4.0, 30, 0.9998090771819581),
    (1.3, 2.5, 0.8497566053646459),
    (0.2, 150, 0.5791242651450399),
    (-6.0, 9, 0.00010124966103382033),
]
# (q, df, quantile)
T_PPF = [
    (0.975, 3, 3.1824463052837086),
    (0.975, 10, 2.2281388519862744),
    (0.975, 31, 2.039513446396408),
    (0.995, 4, 4.604094871349992),
    (0.9, 7, 1.4149239276505086),
    (0.975, 100, 1.9839715185235518),
]
# (a, b, x, I_x(a, b))
BETA = [
    (2.5, 0.5, 0.3, 0.01892712407194565),
    (0.5, 0.5, 0.9, 0.7951672353008665),
    (10, 3, 0.6, 0.08344332287999998),
    (50, 0.5, 0.95, 0.023872705496990748),
]


# ----------------------------------------------------------------------------- t distribution
@pytest.mark.parametrize("a, b, x, want", BETA)
def test_regularized_incomplete_beta_known_values(a, b, x, want):
    assert M.regularized_incomplete_beta(a, b, x) == pytest.approx(want, rel=1e-12)


def test_regularized_incomplete_beta_closed_forms():
    for x in (0.0, 0.1, 0.5, 0.77, 1.0):
        assert M.regularized_incomplete_beta(3.0, 1.0, x) == pytest.approx(x**3, abs=1e-14)
        assert M.regularized_incomplete_beta(1.0, 4.0, x) == pytest.approx(
            1 - (1 - x) ** 4, abs=1e-14
        )
    assert M.regularized_incomplete_beta(7.5, 7.5, 0.5) == pytest.approx(0.5, abs=1e-14)
    a, b, x = 2.3, 4.1, 0.35  # symmetry I_x(a, b) = 1 - I_{1-x}(b, a)
    assert M.regularized_incomplete_beta(a, b, x) == pytest.approx(
        1 - M.regularized_incomplete_beta(b, a, 1 - x), abs=1e-14
    )
    with pytest.raises(ValueError):
        M.regularized_incomplete_beta(0.0, 1.0, 0.5)


@pytest.mark.parametrize("t, df, want", T_CDF)
def test_student_t_cdf_known_values(t, df, want):
    assert M.student_t_cdf(t, df) == pytest.approx(want, rel=1e-11)


@pytest.mark.parametrize("t", [-40.0, -3.0, -0.5, 0.0, 0.7, 2.0, 12.0])
def test_student_t_cdf_closed_forms(t):
    assert M.student_t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-14)
    assert M.student_t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-14)


def test_student_t_tends_to_the_normal():
    for t in (-2.0, -0.3, 1.0, 1.96):
        normal = 0.5 * math.erfc(-t / math.sqrt(2))
        assert M.student_t_cdf(t, 1e6) == pytest.approx(normal, abs=1e-6)


def test_student_t_cdf_edges():
    assert M.student_t_cdf(math.inf, 3) == 1.0
    assert M.student_t_cdf(-math.inf, 3) == 0.0
    assert M.student_t_cdf(0.0, 3) == 0.5
    assert math.isnan(M.student_t_cdf(math.nan, 3))
    with pytest.raises(ValueError):
        M.student_t_cdf(1.0, 0)


@pytest.mark.parametrize("q, df, want", T_PPF)
def test_student_t_ppf_known_values(q, df, want):
    assert M.student_t_ppf(q, df) == pytest.approx(want, rel=1e-10)
    assert M.student_t_ppf(1 - q, df) == pytest.approx(-want, rel=1e-10)


def test_student_t_ppf_inverts_the_cdf():
    for df in (1, 2, 5, 29):
        for q in (0.001, 0.2, 0.5, 0.9, 0.999):
            assert M.student_t_cdf(M.student_t_ppf(q, df), df) == pytest.approx(q, abs=1e-12)
    assert M.student_t_ppf(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-10)
    assert M.student_t_ppf(1.0, 3) == math.inf and M.student_t_ppf(0.0, 3) == -math.inf


def test_dispatching_t_functions_agree_with_the_implementation():
    assert M.t_cdf(1.3, 6) == pytest.approx(M.student_t_cdf(1.3, 6), rel=1e-10)
    assert M.t_ppf(0.975, 6) == pytest.approx(M.student_t_ppf(0.975, 6), rel=1e-10)
    assert M.t_two_sided_p(2.5, 12) == pytest.approx(2 * (1 - 0.9860423002143374), rel=1e-9)
    # far in the tail, without cancellation
    assert M.t_two_sided_p(-6.0, 9) == pytest.approx(2 * 0.00010124966103382033, rel=1e-9)


# ----------------------------------------------------------------------------- performance
def test_sharpe_scales_per_step_pnl_to_one_hour():
    pnl = np.array([1.0, -1.0, 2.0, 0.0])
    want = pnl.mean() / pnl.std(ddof=1) * math.sqrt(3600 / 1.0)
    assert M.sharpe(pnl, 1.0) == pytest.approx(want)
    assert M.sharpe(pnl, 60.0) == pytest.approx(want / math.sqrt(60))


def test_sharpe_degenerate_cases():
    assert M.sharpe(np.zeros(10), 1.0) == 0.0
    assert math.isnan(M.sharpe([1.0], 1.0))
    assert M.sharpe([1.0, np.nan, 3.0], 1.0) == pytest.approx(2.0 / math.sqrt(2) * 60)


def _ma1(n: int, theta: float, mean: float, seed: int) -> np.ndarray:
    e = np.random.default_rng(seed).normal(size=n + 1)
    return mean + e[1:] + theta * e[:-1]


def test_sharpe_with_lags_is_right_on_an_ma1_series():
    """x_t = mu + e_t + theta e_{t-1}: long-run variance (1 + theta)^2, variance 1 + theta^2."""
    theta, mu = -0.5, 0.05
    x = _ma1(200_000, theta, mu, seed=3)
    true = mu / abs(1 + theta) * 60.0  # per hour of 1-s steps
    naive = M.sharpe(x, 1.0)
    assert naive == pytest.approx(mu / math.sqrt(1 + theta**2) * 60.0, rel=0.1)
    assert naive < 0.5 * true  # the i.i.d. scaling is off by sqrt(1.25 / 0.25) = 2.2
    assert M.sharpe(x, 1.0, lags=60) == pytest.approx(true, rel=0.06)
    assert M.long_run_variance(x, 60) == pytest.approx((1 + theta) ** 2, rel=0.1)


def test_sharpe_with_lags_is_right_on_an_ar1_series():
    """x_t - mu = rho (x_{t-1} - mu) + e_t: long-run variance 1 / (1 - rho)^2."""
    rho, mu, n = -0.3, 0.1, 200_000
    e = np.random.default_rng(4).normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = rho * x[t - 1] + e[t]
    x += mu
    true = mu * (1 - rho) * 60.0
    naive, hac = M.sharpe(x, 1.0), M.sharpe(x, 1.0, lags=60)
    # the sample mean is shared: the ratio is the variance estimates' alone
    assert naive / hac == pytest.approx(math.sqrt(1 - rho**2) / (1 - rho), rel=0.05)
    assert naive < 0.8 * true
    assert hac == pytest.approx(true, rel=0.06)


def test_long_run_variance_edges():
    x = np.array([1.0, 3.0, 2.0, 5.0])
    assert M.long_run_variance(x, 0) == pytest.approx(x.var(ddof=1))
    assert M.long_run_variance(x, 100) >= 0.0  # lags beyond the series are cut
    assert math.isnan(M.long_run_variance([1.0], 3))
    with pytest.raises(ValueError):
        M.long_run_variance(x, -1)
    alternating = np.tile([1.0, -1.0], 50)
    assert M.sharpe(alternating, 1.0, lags=5) == pytest.approx(0.0, abs=1e-12)


def test_max_drawdown():
    assert M.max_drawdown([0.0, 1.0, 3.0, 2.0, 5.0, 1.0, 4.0]) == 4.0
    assert M.max_drawdown([0.0, -2.0, -1.0]) == 2.0  # the start counts as a peak
    assert M.max_drawdown([0.0, 1.0, 2.0]) == 0.0
    assert M.max_drawdown([]) == 0.0
    assert M.max_drawdown([0.0, 5.0, np.nan, 1.0]) == 4.0


# ----------------------------------------------------------------------------- inference
def test_mean_ci_is_t_based():
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    ci = M.mean_ci(x)
    half = 2.7764451051977987 * x.std(ddof=1) / math.sqrt(5)  # t(0.975, 4)
    assert ci.mean == pytest.approx(4.0)
    assert (ci.low, ci.high) == pytest.approx((4.0 - half, 4.0 + half))
    assert ci.n == 5 and ci.half_width == pytest.approx(half)
    assert "±" in str(ci)
    narrow = M.mean_ci(x, confidence=0.5)
    assert narrow.high - narrow.low < ci.high - ci.low


def test_mean_ci_drops_nan_and_handles_small_samples():
    assert M.mean_ci([1.0, np.nan, 3.0]).n == 2
    one = M.mean_ci([2.0])
    assert one.mean == 2.0 and math.isnan(one.low) and math.isnan(one.high)
    assert M.mean_ci([]).n == 0
    with pytest.raises(ValueError):
        M.mean_ci([1.0, 2.0], confidence=1.0)


def test_mean_ci_covers_the_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        ci = M.mean_ci(rng.normal(1.0, 2.0, size=6))
        hits += ci.low <= 1.0 <= ci.high
    assert 0.93 <= hits / 2000 <= 0.97


def test_paired_difference_matches_the_paired_t_test():
    a = np.array([5.1, 4.8, 6.0, 5.5, 5.9, 6.2, 4.9])
    b = np.array([4.9, 4.9, 5.1, 5.0, 5.2, 5.8, 4.4])
    d = a - b
    res = M.paired_difference(a, b)
    se = d.std(ddof=1) / math.sqrt(d.size)
    t = d.mean() / se
    assert res.mean_diff == pytest.approx(d.mean())
    assert res.p_value == pytest.approx(2 * (1 - M.student_t_cdf(abs(t), 6)), rel=1e-9)
    half = M.student_t_ppf(0.975, 6) * se
    assert (res.low, res.high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert res.n == 7 and 0.0 < res.p_value < 0.05
    # swapping the samples flips the sign, not the p-value
    swapped = M.paired_difference(b, a)
    assert swapped.mean_diff == pytest.approx(-res.mean_diff)
    assert swapped.p_value == pytest.approx(res.p_value)


def test_paired_difference_edge_cases():
    same = M.paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same.mean_diff == 0.0 and same.p_value == 1.0
    shifted = M.paired_difference([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert shifted.p_value == 0.0 and shifted.low == shifted.high == 1.0
    assert M.paired_difference([1.0, np.nan, 3.0], [0.0, 1.0, 1.0]).n == 2
    with pytest.raises(ValueError):
        M.paired_difference([1.0, 2.0], [1.0])


def test_paired_difference_false_positive_rate_is_about_five_percent():
    rng = np.random.default_rng(1)
    rejections = sum(
        M.paired_difference(rng.normal(size=8), rng.normal(size=8)).p_value < 0.05
        for _ in range(2000)
    )
    assert 0.035 <= rejections / 2000 <= 0.065


def test_pairing_variance_ratio():
    rng = np.random.default_rng(5)
    common = rng.normal(size=4000)
    a = common + 0.1 * rng.normal(size=4000)
    b = common + 0.1 * rng.normal(size=4000)
    assert M.pairing_variance_ratio(a, b) == pytest.approx(0.01 / 1.01, rel=0.15)
    assert M.pairing_variance_ratio(rng.normal(size=4000), rng.normal(size=4000)) == (
        pytest.approx(1.0, abs=0.06)
    )
    assert math.isnan(M.pairing_variance_ratio([1.0, np.nan], [2.0, 3.0]))


def test_holm_known_values():
    p = [0.01, 0.04, 0.03, 0.005]
    np.testing.assert_allclose(M.holm(p), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(M.holm([0.5, np.nan, 0.01]), [0.5, np.nan, 0.02])
    np.testing.assert_allclose(M.holm([0.9, 0.8]), [1.0, 1.0])
    assert M.holm([]).size == 0


@settings(max_examples=200)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
    st.floats(0.001, 0.2),
)
def test_holm_never_rejects_more_than_unadjusted(p_values, alpha):
    p = np.array(p_values)
    adjusted = M.holm(p)
    assert np.all(adjusted >= p - 1e-15) and np.all(adjusted <= 1.0)
    assert np.sum(adjusted < alpha) <= np.sum(p < alpha)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-15)  # monotone in the raw p-values
