import itertools

import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.

# The key names are public (README); one string, so the names alone are not blanked in messages.
KEYS = tuple("mean_x mean_y var_x var_y cov var_sum".split())


def ref_moments(P, xs, ys):
    """By enumerating the outcomes, a different route from the marginal formulas."""
    cells = [(P[i, j], xs[i], ys[j]) for i, j in itertools.product(range(len(xs)), range(len(ys)))]
    e = lambda f: sum(p * f(x, y) for p, x, y in cells)  # noqa: E731
    mx, my = e(lambda x, y: x), e(lambda x, y: y)
    return {
        KEYS[0]: mx,
        KEYS[1]: my,
        KEYS[2]: e(lambda x, y: (x - mx) ** 2),
        KEYS[3]: e(lambda x, y: (y - my) ** 2),
        KEYS[4]: e(lambda x, y: (x - mx) * (y - my)),
        KEYS[5]: e(lambda x, y: (x + y - mx - my) ** 2),
    }


def moments(student, P, xs, ys):
    got = student.table_moments(P, xs, ys)
    if not isinstance(got, dict):
        raise AssertionError(f"table_moments returned {type(got).__name__}, expected a dict")
    missing = [k for k in KEYS if k not in got]
    if missing:
        raise AssertionError(f"table_moments is missing the key(s) {missing}")
    return got


def as_number(got):
    if isinstance(got, (float, int, np.floating, np.integer)) and not isinstance(got, bool):
        return float(got)
    if isinstance(got, np.ndarray) and got.shape == ():
        return float(got)
    return None


def raised(fn):
    """(exception type name, message) of what the call raised, or (None, None)."""
    try:
        fn()
    except Exception as exc:
        return getattr(exc, "etype", type(exc).__name__), str(exc)
    return None, None


def random_table(seed, m, n):
    rng = np.random.default_rng(seed)
    P = rng.uniform(size=(m, n)) ** 3
    return P / P.sum(), rng.normal(size=m) * 3 + 1, rng.normal(size=n) - 2


@pytest.mark.points(2)
def test_sample_variance_ddof(student):
    x = np.random.default_rng(1).normal(loc=5.0, scale=2.0, size=7)
    for ddof in (0, 1, 2):
        got = as_number(student.sample_variance(x, ddof=ddof))
        assert got is not None, "sample_variance of a 1-D array must return a float"
        expected = float(np.var(x, ddof=ddof))
        assert abs(got - expected) < 1e-10 * expected, (
            f"sample_variance(x, ddof={ddof}) for 7 samples = {got:.10f}, expected {expected:.10f} "
            f"(sum of squared deviations / (n - ddof) = / {7 - ddof})"
        )


@pytest.mark.points(1)
def test_sample_variance_per_feature(student):
    X = np.random.default_rng(2).normal(size=(5, 3)) * np.array([1.0, 10.0, 0.1])
    got = student.sample_variance(X, ddof=1)
    assert isinstance(got, np.ndarray), (
        f"sample_variance of a (5, 3) array returned {type(got).__name__}, expected an array"
    )
    assert got.shape == (3,), f"shape {got.shape}, expected (3,): one variance per feature (column), over the 5 samples"
    np.testing.assert_allclose(got, np.var(X, axis=0, ddof=1), rtol=1e-10)


@pytest.mark.points(1)
def test_sample_variance_too_few_samples(student):
    for x, ddof in ((np.array([3.0]), 1), (np.array([1.0, 2.0, 4.0]), 3)):
        etype, msg = raised(lambda x=x, ddof=ddof: student.sample_variance(x, ddof=ddof))
        assert etype == ValueError.__name__, (
            f"sample_variance with n = {len(x)} samples and ddof = {ddof} must raise ValueError (n - ddof <= 0); "
            f"got {etype or 'no exception'} {msg or ''}"
        )
    got = as_number(student.sample_variance(np.array([3.0]), ddof=0))
    assert got == 0.0, f"sample_variance of one sample with ddof=0 is 0.0, got {got}"


@pytest.mark.points(2)
def test_marginals_use_the_right_axis(student):
    for seed, (m, n) in ((3, (4, 4)), (7, (3, 4))):
        P, xs, ys = random_table(seed, m, n)
        got = moments(student, P, xs, ys)
        exp = ref_moments(P, xs, ys)
        for key in KEYS[:4]:
            assert abs(got[key] - exp[key]) < 1e-10, (
                f"{key} = {got[key]:.10f} for a {m}x{n} table, expected {exp[key]:.10f}: rows of P go with xs, "
                "columns with ys, so P(X = xs[i]) sums row i"
            )


@pytest.mark.points(2)
def test_covariance_and_variance_of_a_sum(student):
    for seed, (m, n) in ((4, (4, 3)), (5, (5, 5))):
        P, xs, ys = random_table(seed, m, n)
        got = moments(student, P, xs, ys)
        exp = ref_moments(P, xs, ys)
        assert abs(got[KEYS[4]] - exp[KEYS[4]]) < 1e-10, (
            f"cov = {got[KEYS[4]]:.10f} for a {m}x{n} table, expected {exp[KEYS[4]]:.10f}"
        )
        assert abs(got[KEYS[5]] - (exp[KEYS[2]] + exp[KEYS[3]])) > 1e-6, (
            "var_sum = var_x + var_y, but X and Y are correlated: Var(X + Y) = Var X + Var Y + 2 Cov(X, Y)"
        )
        assert abs(got[KEYS[5]] - exp[KEYS[5]]) < 1e-10, (
            f"var_sum = {got[KEYS[5]]:.10f} for a {m}x{n} table, expected {exp[KEYS[5]]:.10f}"
        )
    # Perfectly anti-correlated: Y = -X, so X + Y is always 0.
    P = np.diag([0.2, 0.5, 0.3])
    got = moments(student, P, np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.0, -2.0]))
    assert abs(got[KEYS[5]]) < 1e-12, f"with Y = -X the sum is constant, so var_sum must be 0, got {got[KEYS[5]]}"


@pytest.mark.points(1)
def test_independent_table(student):
    rng = np.random.default_rng(6)
    px, py = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(2))
    xs, ys = np.array([1.0, 2.0, 5.0, 9.0]), np.array([-3.0, 3.0])
    got = moments(student, np.outer(px, py), xs, ys)
    exp = ref_moments(np.outer(px, py), xs, ys)
    assert abs(got[KEYS[4]]) < 1e-10, f"X and Y are independent, so cov must be 0, got {got[KEYS[4]]}"
    for key in KEYS:
        assert abs(got[key] - exp[key]) < 1e-10, (
            f"{key} = {got[key]:.10f} for an independent 4x2 table, expected {exp[key]:.10f}"
        )


@pytest.mark.points(1)
def test_invalid_table_raises_value_error(student):
    xs, ys = np.array([0.0, 1.0]), np.array([0.0, 1.0])
    etype, msg = raised(lambda: student.table_moments(np.array([[0.4, 0.1], [0.1, 0.3]]), xs, ys))
    assert etype == ValueError.__name__, (
        f"table_moments with a table that sums to 0.9 must raise ValueError; got {etype or 'no exception'} {msg or ''}"
    )
    etype, msg = raised(lambda: student.table_moments(np.array([[0.6, -0.1], [0.1, 0.4]]), xs, ys))
    assert etype == ValueError.__name__, (
        f"table_moments with a negative entry must raise ValueError; got {etype or 'no exception'} {msg or ''}"
    )
    etype, msg = raised(lambda: student.table_moments(np.array([[0.5, 0.5]]), xs, ys))
    assert etype == ValueError.__name__, (
        "table_moments with a (1, 2) table for 2 values of X and 2 of Y must raise ValueError; "
        f"got {etype or 'no exception'} {msg or ''}"
    )
