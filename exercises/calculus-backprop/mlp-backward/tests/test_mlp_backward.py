"""Hidden tests: learners see their names and messages, never this code."""

import pytest
import torch
import torch.nn.functional as F

NAMES = ("W1", "b1", "W2", "b2")


def make_inputs(n, d_in, d_hidden, d_out, seed, dtype=torch.float64, w2_scale=1.0, classes=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d_in, generator=g, dtype=dtype)
    W1 = torch.randn(d_in, d_hidden, generator=g, dtype=dtype)
    b1 = torch.randn(d_hidden, generator=g, dtype=dtype)
    W2 = w2_scale * torch.randn(d_hidden, d_out, generator=g, dtype=dtype)
    b2 = torch.randn(d_out, generator=g, dtype=dtype)
    y = torch.randint(0, classes or d_out, (n,), generator=g)
    return x, W1, b1, W2, b2, y


def autograd_grads(x, W1, b1, W2, b2, y):
    params = [p.clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
    hidden = F.relu(F.linear(x, params[0].T, params[1]))
    F.cross_entropy(F.linear(hidden, params[2].T, params[3]), y).backward()
    return {name: p.grad for name, p in zip(NAMES, params)}


def mismatch(got, expected, rtol, atol):
    try:
        torch.testing.assert_close(got, expected, rtol=rtol, atol=atol, check_dtype=False)
    except AssertionError as exc:
        return str(exc).strip()
    return None


def check(student, inputs, rtol=1e-10, atol=1e-12):
    x, W1, b1, W2, b2, y = inputs
    got = student.mlp_backward(*inputs)
    assert isinstance(got, dict), f"mlp_backward returned {type(got).__name__}, expected a dict"
    assert sorted(got) == sorted(NAMES), f"keys {sorted(got)}, expected W1, b1, W2, b2"
    ref = autograd_grads(*inputs)
    n = x.shape[0]
    dims = (n, x.shape[1], W1.shape[1], W2.shape[1])
    for name in NAMES:
        value = got[name]
        assert isinstance(value, torch.Tensor), f"the gradient {name} is a {type(value).__name__}, expected a tensor"
        assert value.shape == ref[name].shape, (
            f"(n, d_in, d_hidden, d_out = {dims}) the gradient {name} has shape {tuple(value.shape)}, expected the shape of {name}, {tuple(ref[name].shape)}"
        )
        assert value.dtype == x.dtype, (
            f"the gradient {name} has dtype {value.dtype} for {x.dtype} inputs: keep the inputs' dtype (no .float(), "
            "no tensors created without dtype=)"
        )
    for name in ("W2", "b2", "W1", "b1"):  # in backprop order, so the first wrong one is reported
        value = got[name]
        assert torch.isfinite(value).all(), f"(n, d_in, d_hidden, d_out = {dims}) the gradient {name} is not finite: shift the logits by their row maximum"
        err = mismatch(value, ref[name], rtol, atol)
        if err is not None and n > 1 and mismatch(value, n * ref[name], rtol, atol) is None:
            raise AssertionError(f"(n, d_in, d_hidden, d_out = {dims}) d{name} is n times too large: the loss is a mean over the batch")
        assert err is None, (
            f"(n, d_in, d_hidden, d_out = {dims}) d{name} differs from autograd "
            f"({'the earlier gradients are right, so look at the step that leads to it' if name in ('W1', 'b1') else 'start at dL/dlogits'}):\n{err}"
        )
    return got


@pytest.mark.points(3)
def test_matches_autograd(student):
    check(student, make_inputs(6, 5, 7, 3, seed=1))
    check(student, make_inputs(9, 3, 4, 6, seed=2))


@pytest.mark.points(2)
def test_keeps_dtype(student):
    got = check(student, make_inputs(5, 4, 6, 3, seed=3, dtype=torch.float32), rtol=1e-4, atol=1e-6)
    assert all(got[name].dtype == torch.float32 for name in NAMES), (
        f"dtypes {[str(got[name].dtype) for name in NAMES]} for float32 inputs, expected float32"
    )
    got = check(student, make_inputs(5, 4, 6, 3, seed=4))
    assert all(got[name].dtype == torch.float64 for name in NAMES), (
        f"dtypes {[str(got[name].dtype) for name in NAMES]} for float64 inputs, expected float64 (no .float())"
    )


@pytest.mark.points(1)
def test_batch_of_one(student):
    check(student, make_inputs(1, 4, 5, 3, seed=5))
    check(student, make_inputs(1, 1, 1, 2, seed=6))


@pytest.mark.points(1)
def test_batch_missing_some_classes(student):
    # Labels only from {0, 1} with 5 classes: one_hot(y) alone would give 2 columns, not 5.
    check(student, make_inputs(4, 3, 5, 5, seed=7, classes=2))


@pytest.mark.points(2)
def test_large_logits(student):
    # Logits in the hundreds: exp overflows unless the softmax is shifted.
    check(student, make_inputs(6, 4, 8, 4, seed=8, w2_scale=300.0), rtol=1e-9, atol=1e-9)
