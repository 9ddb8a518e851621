# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import math

import pytest
import torch
import torch.nn.functional as F


def rand(*shape, seed, scale=1.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def weights(d_model, d_mlp, seed):
    return [
        rand(d_model, d_mlp, seed=seed, scale=1.5 / math.sqrt(d_model)),
        rand(d_mlp, seed=seed + 1, scale=0.5),
        rand(d_mlp, d_model, seed=seed + 2, scale=1 / math.sqrt(d_mlp)),
        rand(d_model, seed=seed + 3, scale=0.5),
    ]


def ref_mlp(x, W_in, b_in, W_out, b_out, act=None):
    act = act or (lambda h: F.gelu(h, approximate="tanh"))
    return act(x @ W_in + b_in) @ W_out + b_out


def ln(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def expect_tensor(got, shape):
    assert isinstance(got, torch.Tensor), f"returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(shape), f"returned shape {tuple(got.shape)}, expected {tuple(shape)}"


def close(a, b, tol=1e-5):
    return torch.allclose(a.double(), b.double(), rtol=tol, atol=tol)


@pytest.mark.points(3)
def test_gelu_new_is_the_tanh_approximation(student):
    x = torch.linspace(-6, 6, 241)
    got = student.gelu_new(x)
    expect_tensor(got, x.shape)
    expected = F.gelu(x, approximate="tanh")
    if not close(got, expected, 1e-6):
        diff = (got - expected).abs().max().item()
        raise AssertionError(
            f"gelu_new differs from the tanh approximation by up to {diff:.3g} on [-6, 6]"
            + (
                ": this is the exact (erf) GELU; GPT-2 uses the tanh approximation"
                if close(got, F.gelu(x), 1e-6)
                else ": this is a ReLU"
                if close(got, torch.relu(x), 1e-6)
                else ": check the constants 0.5, sqrt(2 / pi) and 0.044715 and the cube"
            )
        )


@pytest.mark.points(1)
def test_gelu_new_large_inputs_and_dtype(student):
    x = torch.tensor([-30.0, -12.0, 12.0, 30.0], dtype=torch.float64)
    got = student.gelu_new(x)
    expect_tensor(got, (4,))
    assert torch.isfinite(got).all(), f"gelu_new gave {got.tolist()} for inputs -30, -12, 12, 30"
    assert got.dtype == torch.float64, f"gelu_new turned float64 input into {got.dtype}"
    assert close(got, F.gelu(x, approximate="tanh"), 1e-9), f"gelu_new at -30, -12, 12, 30 gave {got.tolist()}"


@pytest.mark.points(3)
def test_mlp_matches_reference(student):
    x, w = rand(2, 5, 8, seed=1), weights(8, 32, seed=2)
    got = student.mlp(x, *w)
    expect_tensor(got, (2, 5, 8))
    expected = ref_mlp(x, *w)
    if not close(got, expected, 1e-5):
        W_in, b_in, W_out, b_out = w
        diff = (got - expected).abs().max().item()
        raise AssertionError(
            f"mlp on a (2, 5, 8) input with d_mlp = 32 is wrong (largest difference {diff:.3g})"
            + (
                ": it uses the exact (erf) GELU; GPT-2 uses the tanh approximation (gelu_new)"
                if close(got, ref_mlp(x, *w, act=F.gelu), 1e-5)
                else ": it uses a ReLU; use gelu_new"
                if close(got, ref_mlp(x, *w, act=torch.relu), 1e-5)
                else ": b_in is missing"
                if close(got, ref_mlp(x, W_in, 0 * b_in, W_out, b_out), 1e-5)
                else ": b_out is missing"
                if close(got, ref_mlp(x, W_in, b_in, W_out, 0 * b_out), 1e-5)
                else ""
            )
        )


@pytest.mark.points(2)
def test_mlp_batch_of_one_odd_sizes(student):
    for seed, (batch, seq, d_model, d_mlp) in enumerate([(1, 1, 6, 24), (1, 7, 5, 3), (3, 2, 4, 4)]):
        x, w = rand(batch, seq, d_model, seed=10 + seed), weights(d_model, d_mlp, seed=20 + 4 * seed)
        got = student.mlp(x, *w)
        expect_tensor(got, (batch, seq, d_model))
        expected = ref_mlp(x, *w)
        assert close(got, expected), (
            f"mlp on a {(batch, seq, d_model)} input with d_mlp = {d_mlp} is wrong "
            f"(largest difference {(got - expected).abs().max().item():.3g})"
        )


@pytest.mark.points(3)
def test_mlp_residual_is_pre_ln(student):
    resid = rand(2, 4, 8, seed=30, scale=3.0) + 1
    ln_w, ln_b = rand(8, seed=31, scale=0.5) + 1, rand(8, seed=32, scale=0.3)
    w = weights(8, 32, seed=33)
    got = student.mlp_residual(resid, ln_w, ln_b, *w, 1e-5)
    expect_tensor(got, (2, 4, 8))
    expected = resid + ref_mlp(ln(resid, ln_w, ln_b, 1e-5), *w)
    if not close(got, expected, 1e-4):
        diff = (got - expected).abs().max().item()
        raise AssertionError(
            f"mlp_residual is wrong (largest difference {diff:.3g})"
            + (
                ": it is post-LN, LN(resid + mlp(resid)); GPT-2 is pre-LN, resid + mlp(LN(resid))"
                if close(got, ln(resid + ref_mlp(resid, *w), ln_w, ln_b, 1e-5), 1e-4)
                else ": the residual connection is missing (return resid + ...)"
                if close(got, ref_mlp(ln(resid, ln_w, ln_b, 1e-5), *w), 1e-4)
                else ": the LayerNorm is missing in front of the MLP"
                if close(got, resid + ref_mlp(resid, *w), 1e-4)
                else ": the residual must be the raw input, not the normalised one"
                if close(got, ln(resid, ln_w, ln_b, 1e-5) + ref_mlp(ln(resid, ln_w, ln_b, 1e-5), *w), 1e-4)
                else ""
            )
        )


@pytest.mark.points(1)
def test_mlp_residual_uses_eps(student):
    resid = rand(1, 3, 6, seed=40, scale=0.3)
    ln_w, ln_b = torch.ones(6), torch.zeros(6)
    w = weights(6, 12, seed=41)
    got = student.mlp_residual(resid, ln_w, ln_b, *w, 0.2)
    expect_tensor(got, (1, 3, 6))
    expected = resid + ref_mlp(ln(resid, ln_w, ln_b, 0.2), *w)
    assert close(got, expected, 1e-4), (
        f"mlp_residual with eps = 0.2 is wrong (largest difference {(got - expected).abs().max().item():.3g}): "
        "it must be resid + mlp(LN(resid)) with the LayerNorm using the eps argument"
    )
