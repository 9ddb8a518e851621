"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_patchify_example(student):
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    got = student.patchify(x, 2)
    assert isinstance(got, torch.Tensor), f"patchify returned {type(got).__name__}, expected a tensor"
    expected = torch.tensor(
        [[[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0], [8.0, 9.0, 12.0, 13.0], [10.0, 11.0, 14.0, 15.0]]]
    )
    assert got.shape == (1, 4, 4), f"shape {tuple(got.shape)}, expected (batch, patches, c*p*p) = (1, 4, 4)"
    torch.testing.assert_close(got, expected)


@pytest.mark.points(1)
def test_unpatchify_undoes_patchify(student):
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    patches = student.patchify(x, 2)
    back = student.unpatchify(patches, 2, 4, 6)
    assert isinstance(back, torch.Tensor), f"unpatchify returned {type(back).__name__}, expected a tensor"
    assert back.shape == x.shape, f"shape {tuple(back.shape)}, expected {tuple(x.shape)}"
    torch.testing.assert_close(back, x)


@pytest.mark.points(1)
def test_mean_pool_and_repeat_examples(student):
    pattern = torch.stack([torch.eye(2), torch.ones(2, 2)])[None]  # (1 batch, 2 heads, 2, 2)
    pooled = student.mean_pool_heads(pattern)
    assert isinstance(pooled, torch.Tensor), f"mean_pool_heads returned {type(pooled).__name__}, expected a tensor"
    torch.testing.assert_close(pooled, torch.tensor([[[1.0, 0.5], [0.5, 1.0]]]))

    k = torch.tensor([10.0, 20.0]).reshape(1, 1, 2, 1)  # two key/value heads
    got = student.repeat_kv(k, 2)
    assert isinstance(got, torch.Tensor), f"repeat_kv returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 1, 4, 1), f"shape {tuple(got.shape)}, expected (1, 1, 4, 1)"
    torch.testing.assert_close(got.flatten(), torch.tensor([10.0, 10.0, 20.0, 20.0]))
