"""Hidden tests: learners see their names and messages, never this code."""

import math

import pytest
import torch
import torch.nn.functional as F


def replay(X, y, epochs, lr, batch_size, accumulate=False, reduction="mean"):
    """The loop as specified (accumulate / reduction model the usual mistakes, for messages)."""
    n, d = X.shape
    params = [torch.zeros(d, dtype=X.dtype, requires_grad=True), torch.zeros((), dtype=X.dtype, requires_grad=True)]
    history = []
    for _ in range(epochs):
        for i in range(0, n, batch_size):
            logits = X[i : i + batch_size] @ params[0] + params[1]
            loss = F.binary_cross_entropy_with_logits(logits, y[i : i + batch_size], reduction=reduction)
            loss.backward()
            history.append(loss.item())
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
                    if not accumulate:
                        p.grad.zero_()
    return params[0].detach(), params[1].item(), history


def data(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X @ torch.randn(d, generator=g) + 0.5 * torch.randn(n, generator=g) > 0).float()
    return X, y


def run(student, X, y, epochs, lr, batch_size):
    got = student.train_logistic(X, y, epochs, lr, batch_size)
    assert isinstance(got, (tuple, list)) and len(got) == 3, "train_logistic must return (w, b, losses)"
    w, b, losses = got
    d = X.shape[1]
    assert isinstance(w, torch.Tensor), f"w is a {type(w).__name__}, expected a tensor"
    assert tuple(w.shape) == (d,), f"w has shape {tuple(w.shape)}, expected (d,) = ({d},)"
    assert w.dtype == X.dtype, f"w has dtype {w.dtype} for {X.dtype} data: create the parameters with dtype=X.dtype"
    assert isinstance(b, (int, float)), f"b is a {type(b).__name__}, expected a Python float (use .item())"
    assert isinstance(losses, list), f"losses is a {type(losses).__name__}, expected a list"
    return w, float(b), losses


def same(got, expected, tol=1e-4):
    return len(got) == len(expected) and all(math.isclose(a, e, rel_tol=tol, abs_tol=tol) for a, e in zip(got, expected))


def check(student, X, y, epochs, lr, batch_size):
    w, b, losses = run(student, X, y, epochs, lr, batch_size)
    n = X.shape[0]
    w_ref, b_ref, losses_ref = replay(X, y, epochs, lr, batch_size)
    steps = epochs * math.ceil(n / batch_size)
    assert len(losses) == steps, (
        f"{len(losses)} losses for n = {n}, batch_size = {batch_size}, {epochs} epochs; expected {steps} "
        "(one per step, and the last smaller batch counts)"
    )
    assert all(isinstance(v, float) for v in losses), "every entry of losses should be a float: append loss.item()"
    if not same(losses, losses_ref):
        assert not same(losses, replay(X, y, epochs, lr, batch_size, accumulate=True)[2]), (
            "your losses match a loop whose gradients accumulate across steps: zero the gradients every step"
        )
        assert not (batch_size > 1 and same(losses, replay(X, y, epochs, lr, batch_size, reduction="sum")[2])), (
            "your losses match a summed loss: use the mean over the batch"
        )
        assert not same(losses[:-1], losses_ref[1:]), "your losses are shifted by one step: record each loss before its update"
    assert same(losses, losses_ref), (
        f"n = {n}, batch_size = {batch_size}, lr = {lr}: losses {[round(v, 5) for v in losses[:4]]}..., "
        f"expected {[round(v, 5) for v in losses_ref[:4]]}..."
    )
    assert torch.allclose(w, w_ref, rtol=1e-4, atol=1e-4), f"final w {w.tolist()}, expected {w_ref.tolist()}"
    assert math.isclose(b, b_ref, rel_tol=1e-4, abs_tol=1e-4), f"final b {b}, expected {b_ref}"
    return w, b, losses


@pytest.mark.points(3)
def test_replays_the_specified_loop(student):
    X, y = data(24, 3, seed=1)
    _, _, losses = check(student, X, y, 5, 0.5, 8)
    assert losses[0] == pytest.approx(math.log(2), rel=1e-6), f"the first loss should be log 2 (zero init), got {losses[0]}"
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < first, f"the loss does not go down: first epoch {first:.4f}, last epoch {last:.4f}"


@pytest.mark.points(2)
def test_gradients_do_not_accumulate(student):
    X, y = data(12, 2, seed=2)
    check(student, X, y, 4, 0.3, 4)


@pytest.mark.points(2)
def test_last_partial_batch_counts(student):
    X, y = data(10, 4, seed=3)
    check(student, X, y, 3, 0.4, 4)


@pytest.mark.points(2)
def test_batch_of_one_and_full_batch(student):
    X, y = data(7, 2, seed=4)
    check(student, X, y, 2, 0.1, 1)
    check(student, X, y, 6, 1.0, 7)
    check(student, X, y, 3, 1.0, 50)


@pytest.mark.points(2)
def test_float64_data(student):
    # The loop must follow the data's dtype: parameters in float32 would not match float64 inputs.
    X, y = data(9, 3, seed=5)
    X, y = X.double(), y.double()
    check(student, X, y, 2, 0.5, 4)
