"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


def repeated_tokens(seed, half_len):
    g = torch.Generator().manual_seed(seed)
    half = torch.randint(1, 64, (1, half_len), generator=g)
    return torch.cat([torch.zeros(1, 1, dtype=torch.long), half, half], dim=1)


@pytest.mark.points(2)
def test_contributions_add_up_to_the_next_token_logit(student):
    model = student.load_model("weights.safetensors")
    tokens = repeated_tokens(0, 16)
    attr = student.logit_attribution(model, tokens)
    assert isinstance(attr, dict), f"logit_attribution returned {type(attr).__name__}, expected a dict"
    assert set(attr) == {"embed", "heads", "bias"}, f"keys {sorted(attr)}, expected embed, heads, bias"
    assert attr["embed"].shape == (1, 32), (
        f"embed has shape {tuple(attr['embed'].shape)}, expected (batch, pos - 1) = (1, 32)"
    )
    assert attr["heads"].shape == (1, 32, 2, 4), f"heads has shape {tuple(attr['heads'].shape)}, expected (1, 32, 2, 4)"
    assert attr["bias"].shape == (1, 32), f"bias has shape {tuple(attr['bias'].shape)}, expected (1, 32)"

    logits = model(tokens)  # the model's own forward pass, in your notebook
    next_token_logit = logits[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0]
    total = attr["embed"] + attr["heads"].sum((-1, -2)) + attr["bias"]
    torch.testing.assert_close(total, next_token_logit, rtol=1e-4, atol=1e-4)


@pytest.mark.points(1)
def test_induction_heads_predict_the_second_copy(student):
    # Facts of the trained weights: the four heads of layer 1 are induction heads and push up the
    # logit of the next token of the second copy; layer 0 has almost no direct effect there.
    model = student.load_model("weights.safetensors")
    attr = student.logit_attribution(model, repeated_tokens(1, 16))
    second_copy = attr["heads"][0, 16:].mean(0)
    assert (second_copy[1] > 0.5).all(), (
        f"mean direct effect of layer 1's heads {second_copy[1].tolist()}, expected each > 0.5"
    )
    assert (second_copy[0].abs() < 0.3).all(), (
        f"mean direct effect of layer 0's heads {second_copy[0].tolist()}, expected each near 0"
    )
