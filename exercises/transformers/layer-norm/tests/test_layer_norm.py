# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import pytest
import torch
import torch.nn.functional as F


def rand(*shape, seed, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def reference(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def variants(x, w, b, eps):
    """What typical mistakes give, computed in float64."""
    x, w, b = x.double(), w.double(), b.double()
    c = x - x.mean(-1, keepdim=True)
    return {
        "unb": c / torch.sqrt(x.var(-1, unbiased=True, keepdim=True) + eps) * w + b,
        "out": c / (x.var(-1, unbiased=False, keepdim=True).sqrt() + eps) * w + b,
        "none": c / x.var(-1, unbiased=False, keepdim=True).sqrt() * w + b,
        "dflt": c / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5) * w + b,
        "swap": c / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + eps) * b + w,
        "glob": (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + eps) * w + b,
    }


def check(student, x, w, b, eps, rtol=1e-4, atol=1e-5):
    got = student.layer_norm(x, w, b, eps)
    assert isinstance(got, torch.Tensor), f"layer_norm returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(x.shape), (
        f"layer_norm of shape {tuple(x.shape)} returned shape {tuple(got.shape)} (did you forget keepdim=True?)"
    )
    assert got.dtype == x.dtype, f"layer_norm turned {x.dtype} input into {got.dtype}; keep the input's dtype"
    expected = reference(x, w, b, eps)
    if not torch.allclose(got, expected, rtol=rtol, atol=atol):
        v = variants(x, w, b, eps)

        def same(key):
            return torch.allclose(got.double(), v[key], rtol=rtol, atol=atol)

        diff = (got.double() - expected.double()).abs().max().item()
        raise AssertionError(
            f"layer_norm of shape {tuple(x.shape)} with eps={eps} is wrong (largest difference {diff:.3g})"
            + (
                ": it uses the unbiased variance (divide by d - 1); LayerNorm divides by d"
                if same("unb")
                else ": eps is added to the standard deviation; it belongs inside the square root, sqrt(var + eps)"
                if same("out")
                else ": eps is hard-coded to 1e-5; use the eps argument"
                if same("dflt")
                else ": eps is missing"
                if same("none")
                else ": w and b are swapped (multiply by w, then add b)"
                if same("swap")
                else ": it normalises over the whole tensor; normalise each vector over the last axis only"
                if same("glob")
                else ": on a square input a missing keepdim=True broadcasts the mean and variance along the wrong axis"
                if x.ndim >= 2 and x.shape[-1] == x.shape[-2]
                else ""
            )
        )
    return got


@pytest.mark.points(3)
def test_residual_stream_biased_variance(student):
    x = rand(3, 5, 7, seed=1) * 2 + 1
    check(student, x, rand(7, seed=2), rand(7, seed=3), 1e-5)


@pytest.mark.points(2)
def test_square_last_axes_need_keepdim(student):
    # (n, d) with n == d, or (1, seq, d) with seq == d: x - x.mean(-1) without keepdim broadcasts
    # silently instead of failing.
    check(student, rand(6, 6, seed=4) * 3, rand(6, seed=5), rand(6, seed=6), 1e-5)
    check(student, rand(1, 5, 5, seed=25) * 3, rand(5, seed=26), rand(5, seed=27), 1e-5)


@pytest.mark.points(2)
def test_eps_inside_the_root(student):
    # A variance close to eps: sqrt(var + eps) and sqrt(var) + eps differ a lot.
    x = rand(4, 8, seed=7) * 3e-3
    check(student, x, torch.ones(8), torch.zeros(8), 1e-5, atol=1e-4)


@pytest.mark.points(2)
def test_uses_the_eps_argument(student):
    x = rand(3, 10, seed=8)
    check(student, x, rand(10, seed=9), rand(10, seed=10), 0.5)


@pytest.mark.points(1)
def test_constant_vectors_give_b(student):
    x = torch.full((2, 5), 3.0)
    b = rand(5, seed=11)
    got = student.layer_norm(x, rand(5, seed=12), b, 1e-5)
    assert isinstance(got, torch.Tensor), f"layer_norm returned {type(got).__name__}, expected a tensor"
    assert not torch.isnan(got).any(), "layer_norm of a constant vector gave nan: eps must be inside the square root"
    assert torch.allclose(got, b.expand(2, 5), atol=1e-5), "layer_norm of a constant vector must return b"


@pytest.mark.points(3)
def test_vector_batch_and_float64(student):
    check(student, rand(9, seed=13) + 4, rand(9, seed=14), rand(9, seed=15), 1e-5)
    check(student, rand(1, 1, 3, seed=16), rand(3, seed=17), rand(3, seed=18), 1e-5)
    x = rand(4, 6, seed=19, dtype=torch.float64)
    w, b = rand(6, seed=20, dtype=torch.float64), rand(6, seed=21, dtype=torch.float64)
    check(student, x, w, b, 1e-5, rtol=1e-10, atol=1e-10)


@pytest.mark.points(0)
def test_no_in_place_ops_on_inputs(student):
    # Advisory, worth no points: that the inputs require grad is the kernel's word (a learner's
    # kernel could drop it), so this checks nothing the judge can verify. Leaf tensors that require
    # grad refuse in-place updates (x -= mean raises here).
    x = (rand(3, 4, seed=22) * 2).requires_grad_(True)
    w, b = rand(4, seed=23).requires_grad_(True), rand(4, seed=24).requires_grad_(True)
    check(student, x, w, b, 1e-5)
