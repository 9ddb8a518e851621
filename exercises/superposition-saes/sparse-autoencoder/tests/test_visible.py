"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible

# d_in = 2, d_sae = 3; the decoder rows have unit norm.
WEIGHTS = {
    "W_enc": torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]),
    "b_enc": torch.tensor([0.0, -0.5, 0.0]),
    "W_dec": torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]),
    "b_dec": torch.tensor([0.1, 0.0]),
}
X = torch.tensor([[1.1, 0.5]])
# x - b_dec = [1.0, 0.5]; @ W_enc = [1.0, 0.5, 0.5]; + b_enc = [1.0, 0.0, 0.5]; ReLU keeps it.
ACTS = torch.tensor([[1.0, 0.0, 0.5]])
# 1.0 * [1, 0] + 0.5 * [0.6, 0.8] + b_dec = [1.4, 0.4]
X_HAT = torch.tensor([[1.4, 0.4]])


@pytest.mark.points(1)
def test_forward_example(student):
    sae = student.SAE(2, 3)
    sae.load_state_dict(WEIGHTS)
    got = sae(X)
    assert isinstance(got, tuple) and len(got) == 2, (
        f"SAE.forward returned {type(got).__name__}, expected a tuple (x_hat, acts)"
    )
    x_hat, acts = got
    torch.testing.assert_close(acts, ACTS)
    torch.testing.assert_close(x_hat, X_HAT)


@pytest.mark.points(1)
def test_loss_example(student):
    # mse = (0.3^2 + 0.1^2) / 2 = 0.05; l1 = 1.0 + 0.0 + 0.5 = 1.5; loss = 0.05 + 0.1 * 1.5 = 0.2
    got = student.sae_loss(X, X_HAT, ACTS, 0.1)
    assert isinstance(got, dict), f"sae_loss returned {type(got).__name__}, expected a dict"
    torch.testing.assert_close(got["mse"], torch.tensor(0.05))
    torch.testing.assert_close(got["l1"], torch.tensor(1.5))
    torch.testing.assert_close(got["loss"], torch.tensor(0.2))


@pytest.mark.points(1)
def test_normalize_decoder_example(student):
    sae = student.SAE(2, 3)
    sae.load_state_dict(dict(WEIGHTS, W_dec=torch.tensor([[3.0, 4.0], [0.0, -2.0], [0.5, 0.0]])))
    sae.normalize_decoder()
    torch.testing.assert_close(sae.W_dec, torch.tensor([[0.6, 0.8], [0.0, -1.0], [1.0, 0.0]]))
