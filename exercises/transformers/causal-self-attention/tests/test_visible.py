"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


def random_weights(n_heads, d_model, d_head, seed):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(n_heads, d_model, d_head, generator=g) / d_model**0.5,
        torch.randn(n_heads, d_head, generator=g) * 0.1,
        torch.randn(n_heads, d_model, d_head, generator=g) / d_model**0.5,
        torch.randn(n_heads, d_head, generator=g) * 0.1,
        torch.randn(n_heads, d_model, d_head, generator=g) / d_model**0.5,
        torch.randn(n_heads, d_head, generator=g) * 0.1,
        torch.randn(n_heads, d_head, d_model, generator=g) / d_head**0.5,
        torch.randn(d_model, generator=g) * 0.1,
    ]


@pytest.mark.points(2)
def test_uniform_attention_is_a_running_mean(student):
    # W_Q = W_K = 0: every allowed score is 0, so query i attends 1/(i+1) to each position 0..i.
    # With one head, W_V = W_O = identity and zero biases, output i is the mean of inputs 0..i.
    x = torch.tensor([[[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [-1.0, 2.0]]])
    eye, zeros = torch.eye(2)[None], torch.zeros(1, 2, 2)
    got = student.attention(x, zeros, torch.zeros(1, 2), zeros, torch.zeros(1, 2), eye, torch.zeros(1, 2), eye, torch.zeros(2))
    assert isinstance(got, torch.Tensor), f"attention returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 4, 2), f"shape {tuple(got.shape)}, expected (batch, seq, d_model) = (1, 4, 2)"
    expected = torch.tensor([[[1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [2.0, 2.0]]])
    torch.testing.assert_close(got, expected)


@pytest.mark.points(2)
def test_no_information_from_the_future(student):
    # Changing the inputs at positions 3.. must not change the outputs at positions 0..2.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 6, 8, generator=g)
    x_changed = x.clone()
    x_changed[:, 3:] = torch.randn(2, 3, 8, generator=g) * 3
    weights = random_weights(2, 8, 4, seed=1)
    before = student.attention(x, *weights)
    after = student.attention(x_changed, *weights)
    assert isinstance(before, torch.Tensor), f"attention returned {type(before).__name__}, expected a tensor"
    assert before.shape == (2, 6, 8), f"shape {tuple(before.shape)}, expected (batch, seq, d_model) = (2, 6, 8)"
    torch.testing.assert_close(after[:, :3], before[:, :3], msg="outputs at positions 0..2 changed when only positions 3.. changed: the causal mask is missing or wrong")
    assert not torch.allclose(after[:, 3:], before[:, 3:]), "changing positions 3.. should change the outputs there"
