import math

import pytest
import torch


def reference(q, k):
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    n = q.shape[1]
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    return scores.masked_fill(mask, float("-inf")).softmax(dim=-1)


def inputs(batch, seq, heads, d_head, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, seq, heads, d_head, generator=g, dtype=dtype)
    k = torch.randn(batch, seq, heads, d_head, generator=g, dtype=dtype)
    return q, k


def check(student, q, k, device="cpu"):
    got = student.attention_pattern(q, k)
    assert isinstance(got, torch.Tensor), f"attention_pattern returned {type(got).__name__}, expected a tensor"
    expected = reference(q, k)
    assert got.shape == expected.shape, f"shape {tuple(got.shape)}, expected (batch, heads, query, key) = {tuple(expected.shape)}"
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    return got


@pytest.mark.points(2)
def test_rows_sum_to_one_and_future_is_masked(student):
    q, k = inputs(2, 6, 3, 4, seed=1)
    got = check(student, q, k)
    assert torch.allclose(got.sum(-1), torch.ones(2, 3, 6)), "each query's pattern must sum to 1 over keys"
    assert (got.triu(diagonal=1) == 0).all(), "a query attends to a later position: the causal mask is missing or flipped"


@pytest.mark.points(2)
def test_many_heads_odd_sizes(student):
    check(student, *inputs(3, 7, 5, 9, seed=2))


@pytest.mark.points(2)
def test_non_contiguous_input(student):
    q, k = inputs(2, 5, 4, 6, seed=3)
    # The learner receives a plain tensor; a transposed copy checks nothing relies on memory layout.
    q_t = q.transpose(1, 2).contiguous().transpose(1, 2)
    check(student, q_t, k)


@pytest.mark.points(2)
def test_keeps_float64(student):
    q, k = inputs(2, 4, 2, 8, dtype=torch.float64, seed=4)
    got = check(student, q, k)
    assert got.dtype == torch.float64, f"dtype {got.dtype}, expected float64 (do not hard-code float32)"
