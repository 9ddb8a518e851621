"""Hidden tests: learners see their names and messages, never this code."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn


class Reference(nn.Module):
    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d_in, d_hidden), nn.Linear(d_hidden, d_out)

    def forward(self, x):
        return F.linear(F.relu(F.linear(x, self.fc1.weight, self.fc1.bias)), self.fc2.weight, self.fc2.bias)


def reference_with_weights(d_in, d_hidden, d_out, seed):
    ref = Reference(d_in, d_hidden, d_out)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return ref, {k: v.clone() for k, v in ref.state_dict().items()}


def loaded_model(student, d_in, d_hidden, d_out, seed):
    ref, sd = reference_with_weights(d_in, d_hidden, d_out, seed)
    model = student.MLP(d_in, d_hidden, d_out)
    keys = list(model.state_dict())
    assert sorted(keys) == sorted(sd), f"MLP({d_in}, {d_hidden}, {d_out}).state_dict() has keys {keys}, expected {list(sd)}"
    model.load_state_dict(sd)
    return model, ref


def forward(model, x, expected_shape):
    got = model(x)
    assert isinstance(got, torch.Tensor), f"the model returned {type(got).__name__}, expected a tensor"
    assert tuple(got.shape) == expected_shape, f"input of shape {tuple(x.shape)} gave {tuple(got.shape)}, expected {expected_shape}"
    return got


def mismatch(got, expected):
    try:
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    except AssertionError as exc:
        return str(exc).strip()
    return None


@pytest.mark.points(3)
def test_forward_matches_reference(student):
    for sizes, seed in (((3, 5, 2), 1), ((6, 10, 4), 2)):
        model, ref = loaded_model(student, *sizes, seed)
        x = torch.randn(7, sizes[0], generator=torch.Generator().manual_seed(seed + 10))
        with torch.no_grad():
            expected = ref(x)
        err = mismatch(forward(model, x, (7, sizes[2])), expected)
        assert err is None, f"MLP{sizes} with the grader's weights on a batch of 7: fc2(relu(fc1(x))) expected:\n{err}"


@pytest.mark.points(2)
def test_parameters_are_registered(student):
    model = student.MLP(4, 6, 3)
    params = [p for p in model.parameters()]  # a generator: iterate it (it has no len)
    expected = 4 * 6 + 6 + 6 * 3 + 3
    total = sum(p.numel() for p in params)
    assert total == expected, (
        f"MLP(4, 6, 3).parameters() holds {total} numbers in {len(params)} tensors, expected {expected} in 4: "
        "layers in a plain list or tensors stored as plain attributes are not registered"
    )
    assert all(p.requires_grad for p in params), "every parameter must require grad (use nn.Linear or nn.Parameter)"
    names = [name for name, _ in model.named_parameters()]
    assert len(set(names)) == 4, f"named_parameters() gives {names}, expected 4 distinct names"


@pytest.mark.points(2)
def test_any_leading_dimensions(student):
    model, ref = loaded_model(student, 3, 4, 2, seed=3)
    g = torch.Generator().manual_seed(4)
    for shape in ((2, 5, 3), (3,), (1, 3)):
        x = torch.randn(*shape, generator=g)
        with torch.no_grad():
            expected = ref(x)
        err = mismatch(forward(model, x, tuple(expected.shape)), expected)
        assert err is None, f"input of shape {shape}: nn.Linear works on the last dimension, keep the others:\n{err}"


@pytest.mark.points(1)
def test_no_relu_after_the_last_layer(student):
    model, ref = loaded_model(student, 2, 3, 2, seed=5)
    with torch.no_grad():
        ref.fc2.bias.copy_(torch.tensor([-50.0, 50.0]))  # makes the first logit negative
    model.load_state_dict({k: v.clone() for k, v in ref.state_dict().items()})
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(6))
    got = forward(model, x, (4, 2))
    assert (got[:, 0] < 0).all(), "the outputs are logits and can be negative: no ReLU after fc2"
    with torch.no_grad():
        err = mismatch(got, ref(x))
    assert err is None, f"fc2(relu(fc1(x))) expected:\n{err}"


@pytest.mark.points(1)
def test_sizes_one(student):
    model, ref = loaded_model(student, 1, 1, 1, seed=7)
    x = torch.tensor([[0.5], [-2.0]])
    with torch.no_grad():
        expected = ref(x)
    err = mismatch(forward(model, x, (2, 1)), expected)
    assert err is None, f"MLP(1, 1, 1):\n{err}"


@pytest.mark.points(1)
def test_behaves_like_a_module(student):
    model = student.MLP(2, 3, 1)
    assert model.training is True, "a new module should be in training mode: is MLP a subclass of nn.Module?"
    model.eval()
    assert model.training is False, "model.eval() should switch training off"
    assert len([c for c in model.children()]) >= 2, "fc1 and fc2 should be registered submodules of the MLP"
