"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible

SHAPES = {"fc1.weight": (5, 3), "fc1.bias": (5,), "fc2.weight": (2, 5), "fc2.bias": (2,)}


@pytest.mark.points(1)
def test_state_dict_names_and_shapes(student):
    sd = student.MLP(3, 5, 2).state_dict()
    keys = list(sd)
    assert sorted(keys) == sorted(SHAPES), f"state_dict keys {keys}, expected {list(SHAPES)}"
    for key, shape in SHAPES.items():
        assert tuple(sd[key].shape) == shape, f"{key} has shape {tuple(sd[key].shape)}, expected {shape}"


@pytest.mark.points(1)
def test_forward_with_known_weights(student):
    model = student.MLP(2, 2, 1)
    model.load_state_dict({
        "fc1.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0]]),
        "fc1.bias": torch.tensor([0.0, -1.0]),
        "fc2.weight": torch.tensor([[2.0, 3.0]]),
        "fc2.bias": torch.tensor([0.5]),
    })
    # x = [1, 0]: hidden = relu([1, -1]) = [1, 0], output = 2 * 1 + 3 * 0 + 0.5 = 2.5
    # x = [0, 3]: hidden = relu([0, 2]) = [0, 2], output = 3 * 2 + 0.5 = 6.5
    got = model(torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    assert isinstance(got, torch.Tensor), f"the model returned {type(got).__name__}, expected a tensor"
    torch.testing.assert_close(got, torch.tensor([[2.5], [6.5]]))
