"""Hidden tests: learners see their names and messages, never this code."""

import pytest
import torch


def reference(x, dim, eps=1e-5):
    centered = x - x.mean(dim, keepdim=True)
    return centered / (centered.pow(2).mean(dim, keepdim=True) + eps).sqrt()


def mismatch(got, expected, rtol=1e-4, atol=1e-4):
    """Loose enough for float32 (and for where eps goes, which has its own test)."""
    try:
        torch.testing.assert_close(got, expected, rtol=rtol, atol=atol)
    except AssertionError as exc:
        return str(exc).strip()
    return None


def randn(*shape, seed, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def call(student, device, x, dim, **kwargs):
    got = student.standardize(x, dim, device, **kwargs)
    assert isinstance(got, torch.Tensor), f"standardize returned {type(got).__name__}, expected a tensor"
    assert got.shape == x.shape, f"shape {tuple(got.shape)} for an input of shape {tuple(x.shape)}, expected the same shape"
    assert got.dtype == x.dtype, f"dtype {got.dtype} for a {x.dtype} input, expected {x.dtype}"
    return got


@pytest.mark.points(2)
def test_right_dimension(student, device):
    x = 3.0 * randn(4, 6, seed=1) + 1.0
    for dim in (1, -1, 0):
        err = mismatch(call(student, device, x, dim), reference(x, dim))
        assert err is None, f"x of shape (4, 6) standardized along dim={dim}:\n{err}"


@pytest.mark.points(2)
def test_keepdim_on_square_and_3d_inputs(student, device):
    # Along the last dim of a square matrix, statistics without keepdim broadcast along the wrong axis.
    x = randn(5, 5, seed=2) + torch.arange(5.0)
    err = mismatch(call(student, device, x, 1), reference(x, 1))
    assert err is None, f"a (5, 5) input along dim=1 (keep the reduced dimension: keepdim=True):\n{err}"
    x = randn(2, 3, 4, seed=3)
    err = mismatch(call(student, device, x, 1), reference(x, 1))
    assert err is None, f"a (2, 3, 4) input along dim=1:\n{err}"


@pytest.mark.points(2)
def test_biased_variance(student, device):
    x = randn(3, 4, seed=4)
    got = call(student, device, x, -1)
    unbiased = (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True) + 1e-5).sqrt()
    assert mismatch(got, unbiased) is not None or mismatch(got, reference(x, -1)) is None, (
        "you divided by the unbiased standard deviation (N - 1): use the biased variance, correction=0"
    )
    err = mismatch(got, reference(x, -1))
    assert err is None, f"a (3, 4) input along dim=-1:\n{err}"


@pytest.mark.points(2)
def test_eps_inside_the_square_root(student, device):
    # Tiny spread: the variance is comparable to eps, so where eps goes matters.
    x = 1e-3 * randn(3, 8, seed=5, dtype=torch.float64)
    for eps in (1e-5, 1e-3):
        err = mismatch(call(student, device, x, 1, eps=eps), reference(x, 1, eps), rtol=1e-5, atol=1e-5)
        assert err is None, f"values of size 1e-3 with eps={eps} (divide by sqrt(var + eps), and use the eps passed in):\n{err}"
    constant = torch.full((2, 3), 7.0)
    got = call(student, device, constant, 1)
    assert torch.isfinite(got).all() and (got == 0).all(), f"a constant row should give zeros, got {got.tolist()}"


@pytest.mark.points(2)
def test_keeps_float64(student, device):
    # A large spread makes eps negligible, so only float32 rounding (about 1e-7) can show up here.
    x = 1e5 * randn(4, 3, seed=6, dtype=torch.float64)
    err = mismatch(call(student, device, x, 0), reference(x, 0), rtol=1e-9, atol=1e-9)
    assert err is None, f"a float64 input is not standardized to float64 precision (is some step done in float32?):\n{err}"


@pytest.mark.points(2)
def test_single_entry_along_dim(student, device):
    x = randn(4, 1, seed=7)
    got = call(student, device, x, 1)
    assert not torch.isnan(got).any(), "nan for a dimension of size 1: the unbiased variance divides by N - 1 = 0"
    assert (got == 0).all(), f"a single entry along dim is its own mean, so the result is 0, got {got.flatten().tolist()}"
    x = randn(1, 6, seed=8)
    err = mismatch(call(student, device, x, 1), reference(x, 1))
    assert err is None, f"a batch of one row, along dim=1:\n{err}"


@pytest.mark.points(0)
def test_result_on_the_requested_device(student, device):
    """Advisory, worth no points: where a tensor lives is the kernel's word, which the judge cannot check."""
    got = student.standardize(randn(4, 3, seed=99), 1, device)
    assert got.remote_device.startswith(device), (
        f"the result is on {got.remote_device}, expected the device passed in ({device}): move x there and stay there"
    )
