"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_split_heads_example(student):
    x = torch.arange(8.0).reshape(1, 2, 4)
    got = student.split_heads(x, 2)
    assert isinstance(got, torch.Tensor), f"split_heads returned {type(got).__name__}, expected a tensor"
    expected = torch.tensor([[[[0.0, 1.0], [4.0, 5.0]], [[2.0, 3.0], [6.0, 7.0]]]])
    assert got.shape == (1, 2, 2, 2), f"shape {tuple(got.shape)}, expected (batch, n_heads, seq, d_head) = (1, 2, 2, 2)"
    torch.testing.assert_close(got, expected)


@pytest.mark.points(1)
def test_merge_undoes_split(student):
    x = torch.arange(2 * 3 * 6, dtype=torch.float32).reshape(2, 3, 6)
    back = student.merge_heads(student.split_heads(x, 3))
    assert isinstance(back, torch.Tensor), f"merge_heads returned {type(back).__name__}, expected a tensor"
    assert back.shape == x.shape, f"shape {tuple(back.shape)}, expected {tuple(x.shape)}"
    torch.testing.assert_close(back, x)


@pytest.mark.points(1)
def test_scores_example(student):
    q = torch.tensor([[[1.0, 0.0, 0.0, 2.0]]])
    k = torch.tensor([[[3.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]])
    got = student.multihead_scores(q, k, 2)
    assert isinstance(got, torch.Tensor), f"multihead_scores returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 2, 1, 2), f"shape {tuple(got.shape)}, expected (batch, n_heads, q_seq, k_seq) = (1, 2, 1, 2)"
    r = 1 / math.sqrt(2)
    torch.testing.assert_close(got, torch.tensor([[[[3 * r, 1 * r]], [[2 * r, 2 * r]]]]))
