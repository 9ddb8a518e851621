# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import pytest
import torch


def rand(*shape, seed, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def expect_tensor(got, shape):
    assert isinstance(got, torch.Tensor), f"returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(shape), f"returned shape {tuple(got.shape)}, expected {tuple(shape)}"


def mismatch(got, expected, rtol=1e-5, atol=1e-5):
    """torch's description of how two tensors differ, or "" when they are close."""
    try:
        torch.testing.assert_close(got, expected, rtol=rtol, atol=atol, check_dtype=False)
    except AssertionError as exc:
        return str(exc)
    return ""


def raised(call, *args):
    """The learner's exception type name, or None when the call returned normally."""
    try:
        call(*args)
    except Exception as exc:  # the learner's error arrives as the grader's StudentError
        return getattr(exc, "etype", type(exc).__name__)
    return None


@pytest.mark.points(2)
def test_trace_sums_only_the_diagonal(student):
    a = rand(4, 5, 5, seed=1)
    got = student.batched_trace(a)
    expect_tensor(got, (4,))
    expected = a.diagonal(dim1=1, dim2=2).sum(-1)
    assert not torch.allclose(got, a.sum(dim=(1, 2))), "batched_trace sums every entry of each matrix, not just the diagonal"
    m = mismatch(got, expected)
    assert not m, f"batched_trace is wrong on a (4, 5, 5) batch: {m}"
    one = student.batched_trace(a[:1, :1, :1])
    expect_tensor(one, (1,))
    assert torch.allclose(one, a[0, 0, :1]), "the trace of a 1x1 matrix is its single entry"


@pytest.mark.points(2)
def test_diagonal_per_batch_element(student):
    a = rand(3, 4, 4, seed=2)
    got = student.batched_diagonal(a)
    expect_tensor(got, (3, 4))
    m = mismatch(got, a.diagonal(dim1=1, dim2=2))
    assert not m, f"batched_diagonal[b, i] must be a[b, i, i]: {m}"


@pytest.mark.points(2)
def test_outer_not_transposed(student):
    u, v = rand(2, 3, seed=3), rand(2, 4, seed=4)
    got = student.batched_outer(u, v)
    expect_tensor(got, (2, 3, 4))
    m = mismatch(got, u[:, :, None] * v[:, None, :])
    assert not m, f"batched_outer[b, i, j] must be u[b, i] * v[b, j]: {m}"
    u, v = rand(3, 3, seed=5), rand(3, 3, seed=6)
    got = student.batched_outer(u, v)
    expect_tensor(got, (3, 3, 3))
    assert not torch.allclose(got, v[:, :, None] * u[:, None, :]), (
        "batched_outer returns the transpose (v[b, i] * u[b, j]) when u and v have the same length"
    )
    m = mismatch(got, u[:, :, None] * v[:, None, :])
    assert not m, f"batched_outer is wrong for square outputs: {m}"


@pytest.mark.points(2)
def test_bilinear_axis_order(student):
    x, W, y = rand(5, 3, seed=7), rand(2, 3, 4, seed=8), rand(5, 4, seed=9)
    got = student.bilinear(x, W, y)
    expect_tensor(got, (5, 2))
    m = mismatch(got, torch.nn.functional.bilinear(x, y, W))
    assert not m, f"bilinear with i=3, j=4 is wrong: {m}"
    x, W, y = rand(4, 3, seed=10), rand(2, 3, 3, seed=11), rand(4, 3, seed=12)
    got = student.bilinear(x, W, y)
    expect_tensor(got, (4, 2))
    assert not torch.allclose(got, torch.nn.functional.bilinear(x, y, W.transpose(1, 2))), (
        "bilinear reads W as (out, j, i); the README's W is (out, i, j), multiplied by x on i and by y on j"
    )
    m = mismatch(got, torch.nn.functional.bilinear(x, y, W))
    assert not m, f"bilinear with a square W is wrong: {m}"


@pytest.mark.points(2)
def test_batch_matmul_values(student):
    for seed, (n, i, j, k) in enumerate([(3, 2, 5, 4), (1, 7, 3, 1), (2, 1, 1, 6)]):
        a, b = rand(n, i, j, seed=20 + seed), rand(n, j, k, seed=30 + seed)
        got = student.batch_matmul(a, b)
        expect_tensor(got, (n, i, k))
        m = mismatch(got, torch.bmm(a, b))
        assert not m, f"batch_matmul of shapes {(n, i, j)} and {(n, j, k)} is wrong: {m}"


@pytest.mark.points(2)
def test_batch_matmul_raises_value_error(student):
    # inner dimensions differ; batch sizes differ; a batch of 1 that torch.matmul would broadcast;
    # 2-D inputs; a 3-D with a 2-D input
    cases = [((2, 3, 4), (2, 5, 6)), ((2, 3, 4), (3, 4, 6)), ((1, 3, 4), (3, 4, 6)), ((3, 4), (4, 6)), ((2, 3, 4), (4, 6))]
    for seed, (sa, sb) in enumerate(cases):
        etype = raised(student.batch_matmul, rand(*sa, seed=40 + seed), rand(*sb, seed=50 + seed))
        assert etype == ValueError.__name__, (
            f"batch_matmul of shapes {sa} and {sb} should raise ValueError (3-D inputs, equal batch sizes, "
            f"matching inner dimensions, no broadcasting); it {'raised ' + etype if etype else 'returned normally'}"
        )


@pytest.mark.points(1)
def test_keeps_float64(student):
    a = rand(2, 3, 3, seed=60, dtype=torch.float64)
    got = student.batched_trace(a)
    assert isinstance(got, torch.Tensor), f"batched_trace returned {type(got).__name__}, expected a tensor"
    assert got.dtype == torch.float64, f"batched_trace changed float64 input to {got.dtype}"
    got = student.batch_matmul(a, a)
    assert isinstance(got, torch.Tensor), f"batch_matmul returned {type(got).__name__}, expected a tensor"
    assert got.dtype == torch.float64, f"batch_matmul changed float64 input to {got.dtype}"
