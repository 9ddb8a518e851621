"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_equal_scores_spread_evenly_over_the_past(student):
    # With identical queries and keys every allowed score is equal, so query i attends 1/(i+1) to
    # each of the positions 0..i and nothing to later ones.
    q = torch.ones(1, 3, 1, 2)
    got = student.attention_pattern(q, q)
    assert isinstance(got, torch.Tensor), f"attention_pattern returned {type(got).__name__}, expected a tensor"
    expected = torch.tensor([[[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]]])
    assert got.shape == expected.shape, f"shape {tuple(got.shape)}, expected (batch, heads, query, key) = (1, 1, 3, 3)"
    torch.testing.assert_close(got, expected)
