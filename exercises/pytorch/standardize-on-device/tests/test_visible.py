"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example_on_the_graders_device(student, device):
    got = student.standardize(torch.tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]]), 1, device)
    assert isinstance(got, torch.Tensor), f"standardize returned {type(got).__name__}, expected a tensor"
    a = 1 / math.sqrt(2 / 3 + 1e-5)  # mean 2, biased variance 2/3
    torch.testing.assert_close(got, torch.tensor([[-a, 0.0, a], [0.0, 0.0, 0.0]]))
