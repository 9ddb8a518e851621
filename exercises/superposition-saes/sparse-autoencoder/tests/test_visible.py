"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible

# Three inputs, four latents: latents 0 and 2 never fire.
ACTS = torch.tensor([[0.0, 2.0, 0.0, 0.5], [0.0, 0.0, 0.0, 1.0], [0.0, 3.0, 0.0, 0.0]])

# The mean of X is [2, 3]; around it the rows are [-1, -1], [1, -1], [0, 2]: a total of 8.
X = torch.tensor([[1.0, 2.0], [3.0, 2.0], [2.0, 5.0]])
# Four errors of 0.5: 4 * 0.25 = 1 of the 8 is unexplained.
X_HAT = torch.tensor([[1.5, 2.0], [3.0, 1.5], [2.5, 5.5]])


@pytest.mark.points(1)
def test_metrics_example(student):
    assert abs(float(student.l0(ACTS)) - 4 / 3) < 1e-6, "(2 + 1 + 1) active latents / 3 inputs = 4/3"
    assert abs(float(student.dead_fraction(ACTS)) - 0.5) < 1e-6, "2 of the 4 latents never fire: 0.5"
    assert abs(float(student.explained_variance(X, X_HAT)) - 0.875) < 1e-6, "1 - 1/8 = 0.875"
    # Features e0, e1 and (e0 + e1)/sqrt(2); latent directions e0, -e1 and (0.6, 0.8) (any length).
    W_toy = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    W_dec = torch.tensor([[2.0, 0.0], [0.0, -1.0], [0.6, 0.8]])
    torch.testing.assert_close(student.feature_recovery(W_dec, W_toy), torch.tensor([1.0, 0.8, 1.4 / 2**0.5]))


@pytest.mark.points(1)
def test_train_sae_shapes_and_decoder_bias_init(student):
    x = torch.randn(64, 5, generator=torch.Generator().manual_seed(0)) + torch.tensor([3.0, -1.0, 0.0, 2.0, 0.5])
    sae = student.train_sae(x, 12, 0.1, 0, 16, 1e-3, 0)  # zero steps: the SAE as initialised
    assert tuple(sae.W_enc.shape) == (5, 12), "W_enc is (d_in, d_sae)"
    assert tuple(sae.W_dec.shape) == (12, 5), "W_dec is (d_sae, d_in)"
    assert tuple(sae.b_enc.shape) == (12,) and tuple(sae.b_dec.shape) == (5,)
    torch.testing.assert_close(sae.b_dec.detach(), x.mean(0), msg="b_dec starts at the mean of the activations")


@pytest.mark.points(1)
def test_short_training_reconstructs_sparsely(student):
    # Six orthogonal directions in 6 dimensions, each present 20% of the time, shifted away from 0.
    g = torch.Generator().manual_seed(1)
    features = torch.rand(4096, 6, generator=g) * (torch.rand(4096, 6, generator=g) < 0.2)
    x = features + 1.0
    sae = student.train_sae(x, 12, 0.05, 500, 128, 1e-2, 0)
    with torch.no_grad():
        acts = torch.relu((x - sae.b_dec) @ sae.W_enc + sae.b_enc)
        x_hat = acts @ sae.W_dec + sae.b_dec
    explained = 1 - ((x - x_hat) ** 2).sum() / ((x - x.mean(0)) ** 2).sum()
    active = (acts != 0).float().sum(-1).mean()
    assert explained > 0.8, f"after 500 steps the SAE explains only {explained:.2f} of the variance"
    assert active < 4, (
        f"after 500 steps {active:.1f} latents are active per input: is the L1 penalty in the loss, and b_dec "
        "initialised to the mean of the activations?"
    )
