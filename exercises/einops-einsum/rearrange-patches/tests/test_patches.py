# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import pytest
import torch


def ref_patchify(x, p):
    b, c, h, w = x.shape
    grid = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return grid.reshape(b, (h // p) * (w // p), c * p * p)


def rand(*shape, seed, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def expect_tensor(got, shape):
    assert isinstance(got, torch.Tensor), f"returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == tuple(shape), f"returned shape {tuple(got.shape)}, expected {tuple(shape)}"


def mismatch(got, expected, rtol=1.3e-6, atol=1e-5):
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
def test_patchify_non_square_rgb(student):
    x = rand(2, 3, 6, 10, seed=1)
    got = student.patchify(x, 2)
    expect_tensor(got, (2, 15, 12))
    plain_reshape = x.reshape(2, 15, 12)
    channels_last = x.reshape(2, 3, 3, 2, 5, 2).permute(0, 2, 4, 3, 5, 1).reshape(2, 15, 12)
    assert not torch.allclose(got, plain_reshape), (
        "patchify looks like a plain reshape: the pixels of one patch are not next to each other in memory, rearrange them"
    )
    assert not torch.allclose(got, channels_last), (
        "patchify orders patch features (row in patch, column in patch, channel); the README asks for (channel, row, column)"
    )
    expected = ref_patchify(x, 2)
    assert torch.allclose(got, expected), (
        "patchify has the right shape but wrong values on a 3-channel 6x10 image: patches go row by row over the "
        f"grid, features are (channel, row in patch, column in patch): {mismatch(got, expected)}"
    )


@pytest.mark.points(2)
def test_unpatchify_non_square(student):
    x = rand(1, 2, 9, 6, seed=2)
    got = student.unpatchify(ref_patchify(x, 3), 3, 9, 6)
    expect_tensor(got, (1, 2, 9, 6))
    assert torch.allclose(got, x), (
        f"unpatchify does not rebuild a 2-channel 9x6 image from its 3x3 patches (h and w swapped?): {mismatch(got, x)}"
    )


@pytest.mark.points(1)
def test_patch_size_one_and_whole_image(student):
    x = rand(3, 2, 4, 4, seed=3)
    got = student.patchify(x, 1)
    expect_tensor(got, (3, 16, 2))
    assert torch.allclose(got, ref_patchify(x, 1)), f"patchify with p=1 is wrong: {mismatch(got, ref_patchify(x, 1))}"
    got = student.patchify(x, 4)
    expect_tensor(got, (3, 1, 32))
    assert torch.allclose(got, ref_patchify(x, 4)), (
        f"patchify with one patch covering the whole image is wrong: {mismatch(got, ref_patchify(x, 4))}"
    )


@pytest.mark.points(1)
def test_indivisible_size_raises_value_error(student):
    etype = raised(student.patchify, rand(1, 1, 6, 5, seed=4), 2)
    assert etype == ValueError.__name__, (
        f"patchify of a 6x5 image with p=2 should raise ValueError, it {'raised ' + etype if etype else 'returned normally'}"
    )


@pytest.mark.points(2)
def test_mean_pool_heads_not_batch(student):
    pattern = rand(3, 4, 5, 5, seed=5).softmax(-1)
    got = student.mean_pool_heads(pattern)
    expect_tensor(got, (3, 5, 5))
    expected = pattern.mean(dim=1)
    assert torch.allclose(got, expected), f"mean_pool_heads must average over the heads axis (dim 1): {mismatch(got, expected)}"
    one = student.mean_pool_heads(pattern[:1, :1])
    expect_tensor(one, (1, 5, 5))
    assert torch.allclose(one, pattern[:1, 0]), "with a single head, mean_pool_heads must return that head's pattern"


@pytest.mark.points(2)
def test_repeat_kv_order(student):
    k = rand(2, 3, 2, 4, seed=6)
    got = student.repeat_kv(k, 3)
    expect_tensor(got, (2, 3, 6, 4))
    assert not torch.allclose(got, k.repeat(1, 1, 3, 1)), (
        "repeat_kv tiles the heads (k0, k1, k0, k1, ...); each head must repeat in a row (k0, k0, k0, k1, ...)"
    )
    expected = k.repeat_interleave(3, dim=2)
    assert torch.allclose(got, expected), f"repeat_kv: output head j must be a copy of head j // n_rep: {mismatch(got, expected)}"
    same = student.repeat_kv(k, 1)
    expect_tensor(same, (2, 3, 2, 4))
    assert torch.equal(same, k), "repeat_kv with n_rep=1 must return the heads unchanged"


@pytest.mark.points(1)
def test_keeps_float64(student):
    got = student.patchify(rand(1, 1, 4, 2, seed=7, dtype=torch.float64), 2)
    expect_tensor(got, (1, 2, 4))
    assert got.dtype == torch.float64, f"patchify changed the dtype to {got.dtype}; keep the input's float64"
    pooled = student.mean_pool_heads(rand(1, 2, 3, 3, seed=8, dtype=torch.float64))
    expect_tensor(pooled, (1, 3, 3))
    assert pooled.dtype == torch.float64, f"mean_pool_heads changed the dtype to {pooled.dtype}; keep the input's float64"
