"""Hidden tests: learners see their names and messages, never this code."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F


def autograd_reference(X, w, b, y):
    """Loss and gradients from PyTorch's autograd, in float64."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    wt = torch.from_numpy(w).clone().requires_grad_(True)
    bt = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(Xt @ wt + bt, yt)
    loss.backward()
    return loss.item(), wt.grad.numpy(), bt.grad.item()


def mismatch(got, expected, rtol, atol):
    try:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    except AssertionError as exc:
        return str(exc).strip()
    return None


def problem(n, d, seed, scale=1.0, soft=False):
    rng = np.random.default_rng(seed)
    X = scale * rng.normal(size=(n, d))
    w = rng.normal(size=d)
    b = float(rng.normal())
    y = rng.uniform(size=n) if soft else rng.integers(0, 2, size=n).astype(np.float64)
    return X, w, b, y


def grads(student, X, w, b, y):
    got = student.d_loss_d_w(X, w, b, y)
    assert isinstance(got, (tuple, list)) and len(got) == 2, "d_loss_d_w must return a pair (dw, db)"
    dw, db = got
    assert isinstance(dw, np.ndarray), f"dw is a {type(dw).__name__}, expected a numpy array"
    assert dw.shape == w.shape, f"dw has shape {dw.shape}, expected the shape of w, (d,) = {w.shape}"
    assert np.ndim(db) == 0, f"db has shape {np.shape(db)}, expected a single number"
    return dw, float(db)


def check_grads(student, X, w, b, y):
    dw, db = grads(student, X, w, b, y)
    n, d = X.shape
    zmax = np.abs(X @ w + b).max()
    _, dw_ref, db_ref = autograd_reference(X, w, b, y)
    assert np.isfinite(dw).all() and np.isfinite(db), f"(n = {n}, d = {d}, largest |logit| {zmax:.0f}) the gradient is not finite"
    if mismatch(dw, dw_ref, 1e-7, 1e-12) is not None:
        if n > 1:
            assert not np.allclose(dw, n * dw_ref), f"(n = {n}, d = {d}, largest |logit| {zmax:.0f}) dw is n times too large; the loss is a mean, so divide by n"
        assert not np.allclose(dw, -dw_ref), f"(n = {n}, d = {d}, largest |logit| {zmax:.0f}) dw has the wrong sign (p - y, not y - p)"
    err = mismatch(dw, dw_ref, 1e-7, 1e-12)
    assert err is None, f"(n = {n}, d = {d}, largest |logit| {zmax:.0f}) dw differs from autograd:\n{err}"
    assert np.isclose(db, db_ref, rtol=1e-7, atol=1e-12), f"(n = {n}, d = {d}, largest |logit| {zmax:.0f}) db = {db:.8g}, autograd gives {db_ref:.8g}"


@pytest.mark.points(3)
def test_gradients_match_autograd(student):
    check_grads(student, *problem(7, 4, seed=1))
    check_grads(student, *problem(3, 6, seed=2))


@pytest.mark.points(1)
def test_single_example_and_single_feature(student):
    check_grads(student, *problem(1, 3, seed=3))
    check_grads(student, *problem(5, 1, seed=4))


@pytest.mark.points(2)
def test_gradients_with_huge_logits(student):
    check_grads(student, *problem(6, 3, seed=5, scale=300.0))


@pytest.mark.points(1)
def test_soft_labels(student):
    check_grads(student, *problem(8, 3, seed=6, soft=True))


@pytest.mark.points(2)
def test_loss_matches_autograd(student):
    for n, d, seed in ((7, 4, 7), (1, 2, 8)):
        X, w, b, y = problem(n, d, seed)
        got = student.logistic_loss(X, w, b, y)
        assert np.ndim(got) == 0, f"logistic_loss returned shape {np.shape(got)}, expected a single number"
        ref = autograd_reference(X, w, b, y)[0]
        assert np.isclose(float(got), ref, rtol=1e-9), f"loss for {n} example(s) = {float(got):.10g}, expected {ref:.10g}"


@pytest.mark.points(2)
def test_loss_is_stable_for_huge_logits(student):
    # z = [-800, 800, 800] with y = [1, 1, 0]: a confident wrong answer costs about |z|, not inf.
    X = np.array([[-8.0], [8.0], [8.0]])
    w, b, y = np.array([100.0]), 0.0, np.array([1.0, 1.0, 0.0])
    got = float(student.logistic_loss(X, w, b, y))
    assert np.isfinite(got), f"loss {got} for logits of +-800: use log(1 + exp(z)) - y z with np.logaddexp"
    assert np.isclose(got, 1600.0 / 3, rtol=1e-9), f"loss {got:.10g}, expected 1600 / 3 = {1600 / 3:.10g}"
