"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_trace_and_diagonal_example(student):
    a = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    trace = student.batched_trace(a)
    assert isinstance(trace, torch.Tensor), f"batched_trace returned {type(trace).__name__}, expected a tensor"
    torch.testing.assert_close(trace, torch.tensor([5.0]))
    diagonal = student.batched_diagonal(a)
    assert isinstance(diagonal, torch.Tensor), f"batched_diagonal returned {type(diagonal).__name__}, expected a tensor"
    torch.testing.assert_close(diagonal, torch.tensor([[1.0, 4.0]]))


@pytest.mark.points(1)
def test_outer_and_bilinear_example(student):
    outer = student.batched_outer(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0, 5.0]]))
    assert isinstance(outer, torch.Tensor), f"batched_outer returned {type(outer).__name__}, expected a tensor"
    torch.testing.assert_close(outer, torch.tensor([[[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]]))
    # With W the identity, the bilinear form is the dot product x . y = 1*3 + 2*4.
    got = student.bilinear(torch.tensor([[1.0, 2.0]]), torch.eye(2)[None], torch.tensor([[3.0, 4.0]]))
    assert isinstance(got, torch.Tensor), f"bilinear returned {type(got).__name__}, expected a tensor"
    torch.testing.assert_close(got, torch.tensor([[11.0]]))


@pytest.mark.points(1)
def test_batch_matmul_example(student):
    a = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]]])
    b = torch.tensor([[[1.0], [1.0]], [[2.0], [3.0]]])
    got = student.batch_matmul(a, b)
    assert isinstance(got, torch.Tensor), f"batch_matmul returned {type(got).__name__}, expected a tensor"
    torch.testing.assert_close(got, torch.tensor([[[3.0], [7.0]], [[3.0], [2.0]]]))
