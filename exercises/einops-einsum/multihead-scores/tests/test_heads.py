# Hidden tests. Messages shown to learners live in assert/raise statements only: the judge blanks
# every other string literal of this file that shows up in the output.
import math

import pytest
import torch


def rand(*shape, seed, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def ref_split(x, n_heads):
    b, s, d = x.shape
    return x.reshape(b, s, n_heads, d // n_heads).transpose(1, 2)


def ref_scores(q, k, n_heads):
    qh, kh = ref_split(q, n_heads), ref_split(k, n_heads)
    return qh @ kh.transpose(-1, -2) / math.sqrt(qh.shape[-1])


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
def test_split_heads_contiguous_blocks(student):
    x = rand(2, 5, 12, seed=1)
    got = student.split_heads(x, 3)
    expect_tensor(got, (2, 3, 5, 4))
    assert not torch.allclose(got, x.reshape(2, 3, 5, 4)), (
        "split_heads looks like a plain reshape to (batch, n_heads, seq, d_head): that mixes positions into heads"
    )
    assert not torch.allclose(got, x.reshape(2, 5, 4, 3).permute(0, 3, 1, 2)), (
        "split_heads splits the features as (d_head, n_heads): head h must own the contiguous block "
        "h*d_head .. (h+1)*d_head - 1"
    )
    m = mismatch(got, ref_split(x, 3))
    assert not m, f"split_heads(x, 3) on a (2, 5, 12) tensor is wrong: {m}"


@pytest.mark.points(2)
def test_merge_heads_inverse(student):
    x = rand(3, 2, 4, 5, seed=2)
    got = student.merge_heads(x)
    expect_tensor(got, (3, 4, 10))
    expected = x.transpose(1, 2).reshape(3, 4, 10)
    assert not torch.allclose(got, x.reshape(3, 4, 10)), "merge_heads looks like a plain reshape: move the heads axis next to d_head first"
    m = mismatch(got, expected)
    assert not m, f"merge_heads must put head h's features at h*d_head .. (h+1)*d_head - 1: {m}"


@pytest.mark.points(1)
def test_split_heads_rejects_indivisible(student):
    etype = raised(student.split_heads, rand(1, 3, 10, seed=3), 4)
    assert etype == ValueError.__name__, (
        f"split_heads with d_model=10 and n_heads=4 should raise ValueError, it {'raised ' + etype if etype else 'returned normally'}"
    )


@pytest.mark.points(3)
def test_scores_cross_attention(student):
    q, k = rand(2, 3, 12, seed=4), rand(2, 5, 12, seed=5)
    got = student.multihead_scores(q, k, 4)
    assert isinstance(got, torch.Tensor), f"multihead_scores returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) != (2, 4, 5, 3), "multihead_scores has the query and key axes swapped: expected (batch, n_heads, q_seq, k_seq)"
    expect_tensor(got, (2, 4, 3, 5))
    expected = ref_scores(q, k, 4)
    unscaled = expected * math.sqrt(3)
    assert not torch.allclose(got, unscaled / math.sqrt(12)), "multihead_scores divides by sqrt(d_model); divide by sqrt(d_head)"
    assert not torch.allclose(got, unscaled / 3), "multihead_scores divides by d_head; divide by sqrt(d_head)"
    assert not torch.allclose(got, unscaled), "multihead_scores is not scaled: divide by sqrt(d_head)"
    m = mismatch(got, expected)
    assert not m, f"multihead_scores with 4 heads of size 3 is wrong: {m}"


@pytest.mark.points(2)
def test_scores_batch_one_single_head_single_position(student):
    q, k = rand(1, 1, 6, seed=6), rand(1, 4, 6, seed=7)
    got = student.multihead_scores(q, k, 1)
    expect_tensor(got, (1, 1, 1, 4))
    m = mismatch(got, ref_scores(q, k, 1))
    assert not m, f"multihead_scores with one head (d_head = d_model) and a single query is wrong: {m}"
    q, k = rand(1, 4, 6, seed=8), rand(1, 4, 6, seed=9)
    got = student.multihead_scores(q, k, 6)
    expect_tensor(got, (1, 6, 4, 4))
    m = mismatch(got, ref_scores(q, k, 6))
    assert not m, f"multihead_scores with d_head = 1 is wrong: {m}"


@pytest.mark.points(1)
def test_keeps_float64(student):
    q = rand(2, 3, 4, seed=10, dtype=torch.float64)
    got = student.multihead_scores(q, q, 2)
    expect_tensor(got, (2, 2, 3, 3))
    assert got.dtype == torch.float64, f"multihead_scores turned float64 input into {got.dtype}"
    m = mismatch(got, ref_scores(q, q, 2), rtol=1e-10, atol=1e-10)
    assert not m, f"multihead_scores in float64 is wrong: {m}"
