"""Pure metric functions and the Student-t distribution implemented without SciPy.

Reference values of the t distribution were computed with mpmath at 30 digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mm_gym import metrics as M

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
