"""Hidden tests: learners see their names and messages, never this code."""

import pytest
import torch


def least_squares(X, y):
    """The exact minimiser of mean((X w + b - y)^2), in float64."""
    A = torch.cat([X.double(), torch.ones(X.shape[0], 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(A, y.double().unsqueeze(1)).solution.squeeze(1)
    return solution[:-1], solution[-1]


def descend(X, y, steps, lr, accumulate=False):
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    b = torch.zeros((), dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        ((X @ w + b - y) ** 2).mean().backward()
        with torch.no_grad():
            for p in (w, b):
                p -= lr * p.grad
                if not accumulate:
                    p.grad.zero_()
    return w.detach(), b.detach()


def data(n, d, seed, dtype=torch.float32, offset=3.0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=dtype)
    true_w = torch.randn(d, generator=g, dtype=dtype)
    y = X @ true_w + offset + 0.1 * torch.randn(n, generator=g, dtype=dtype)
    return X, y


def fit(student, device, X, y, steps, lr):
    got = student.fit_linear_regression(X, y, device, steps, lr)
    assert isinstance(got, (tuple, list)) and len(got) == 2, "fit_linear_regression must return (w, b)"
    w, b = got
    d = X.shape[1]
    for name, t in (("w", w), ("b", b)):
        assert isinstance(t, torch.Tensor), f"{name} is a {type(t).__name__}, expected a tensor"
        assert t.dtype == X.dtype, f"{name} has dtype {t.dtype} for {X.dtype} data: use dtype=X.dtype"
    assert tuple(w.shape) == (d,), f"w has shape {tuple(w.shape)}, expected (d,) = ({d},)"
    assert b.numel() == 1, f"b has shape {tuple(b.shape)}, expected a single number (shape ())"
    return w, b.reshape(())


def assert_fit(w, b, w_ref, b_ref, tol):
    assert torch.isfinite(w).all() and torch.isfinite(b), (
        "the fit diverged (inf or nan): use the mean squared error, not the sum, and zero the gradients every step"
    )
    assert torch.allclose(w.double(), w_ref, rtol=tol, atol=tol) and abs(b.item() - b_ref.item()) < tol, (
        f"w = {[round(v, 5) for v in w.tolist()]}, b = {b.item():.5f}; least squares gives "
        f"w = {[round(v, 5) for v in w_ref.tolist()]}, b = {b_ref.item():.5f} "
        "(check that predictions and y both have shape (n,), and that the bias is trained)"
    )


@pytest.mark.points(3)
def test_matches_least_squares(student, device):
    for n, d, seed in ((200, 4, 1), (50, 8, 2)):
        X, y = data(n, d, seed)
        w, b = fit(student, device, X, y, 1000, 0.1)
        assert_fit(w, b, *least_squares(X, y), tol=1e-3)


@pytest.mark.points(2)
def test_exact_gradient_descent_steps(student, device):
    # A few steps from zero must follow plain gradient descent exactly (no accumulated gradients).
    X, y = data(30, 3, seed=3)
    w, b = fit(student, device, X, y, 4, 0.05)
    w_ref, b_ref = descend(X, y, 4, 0.05)
    if not (torch.allclose(w, w_ref, rtol=1e-4, atol=1e-5) and torch.allclose(b, b_ref, rtol=1e-4, atol=1e-5)):
        w_acc, b_acc = descend(X, y, 4, 0.05, accumulate=True)
        assert not torch.allclose(w, w_acc, rtol=1e-4, atol=1e-5), (
            "after 4 steps your parameters match gradients that accumulate across steps: zero them every step"
        )
    assert torch.allclose(w, w_ref, rtol=1e-4, atol=1e-5), (
        f"after 4 steps from zero with lr 0.05, w = {w.tolist()}, expected {w_ref.tolist()} "
        "(start from zeros, take exactly `steps` steps of size lr on the mean squared error)"
    )
    assert torch.allclose(b, b_ref, rtol=1e-4, atol=1e-5), f"after 4 steps b = {b.item()}, expected {b_ref.item()}"


@pytest.mark.points(2)
def test_float64_data(student, device):
    X, y = data(100, 3, seed=4, dtype=torch.float64)
    w, b = fit(student, device, X, y, 1500, 0.1)
    assert_fit(w, b, *least_squares(X, y), tol=1e-8)


@pytest.mark.points(2)
def test_large_offset_needs_the_bias(student, device):
    X, y = data(60, 1, seed=5, offset=10.0)
    w, b = fit(student, device, X, y, 1000, 0.1)
    w_ref, b_ref = least_squares(X, y)
    assert abs(b.item() - b_ref.item()) < 1e-3, f"b = {b.item():.4f}, expected {b_ref.item():.4f}: is the bias trained?"
    assert_fit(w, b, w_ref, b_ref, tol=1e-3)


@pytest.mark.points(0)
def test_results_on_the_requested_device(student, device):
    """Advisory, worth no points: where a tensor lives is the kernel's word, which the judge cannot check."""
    X, y = data(64, 2, seed=9)
    got = student.fit_linear_regression(X, y, device, 5, 0.1)
    for name, t in zip(("w", "b"), got):
        assert t.remote_device.startswith(device), (
            f"{name} is on {t.remote_device}, expected the device passed in ({device}): create tensors with device=..."
        )
