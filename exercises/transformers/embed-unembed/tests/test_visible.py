"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible

W_E = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # d_vocab 3, d_model 2
W_POS = torch.tensor([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0], [30.0, 0.0]])  # n_ctx 4


@pytest.mark.points(1)
def test_embed_example(student):
    got = student.embed(torch.tensor([[2, 2, 0]]), W_E, W_POS)
    assert isinstance(got, torch.Tensor), f"embed returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 3, 2), f"shape {tuple(got.shape)}, expected (batch, seq, d_model) = (1, 3, 2)"
    # token 2 at position 0, token 2 at position 1, token 0 at position 2
    torch.testing.assert_close(got, torch.tensor([[[1.0, 1.0], [11.0, 1.0], [21.0, 0.0]]]))


@pytest.mark.points(1)
def test_unembed_example(student):
    resid = torch.tensor([[[1.0, 2.0]]])  # batch 1, seq 1, d_model 2
    W_U = torch.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, -1.0]])  # (d_model, d_vocab)
    b_U = torch.tensor([0.5, 0.0, 0.0])
    got = student.unembed(resid, W_U, b_U)
    assert isinstance(got, torch.Tensor), f"unembed returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 1, 3), f"shape {tuple(got.shape)}, expected (batch, seq, d_vocab) = (1, 1, 3)"
    torch.testing.assert_close(got, torch.tensor([[[1.5, 2.0, 1.0]]]))
