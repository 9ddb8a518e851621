"""Visible tests: shipped in the starter pack, so learners can run them offline."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.visible

DATA = Path(__file__).parent.parent / "data"


@pytest.mark.points(2)
def test_cache_example(student):
    model = student.load_model("weights.safetensors")
    tokens = torch.tensor([[0, 7, 21, 40, 3, 7, 21]])
    cache = student.cache_activations(model, tokens)
    assert isinstance(cache, dict), f"cache_activations returned {type(cache).__name__}, expected a dict"

    for layer in (0, 1):
        name = f"blocks.{layer}.attn.hook_pattern"
        assert name in cache, f"no {name!r} in the cache (keys are the names from model.named_modules())"
        pattern = cache[name]
        assert isinstance(pattern, torch.Tensor), f"cache[{name!r}] is a {type(pattern).__name__}, expected a tensor"
        assert pattern.shape == (1, 4, 7, 7), f"cache[{name!r}] has shape {tuple(pattern.shape)}, expected (1, 4, 7, 7)"
        torch.testing.assert_close(pattern.sum(-1), torch.ones(1, 4, 7), msg=f"rows of {name} must sum to 1")
        assert (pattern.triu(diagonal=1) == 0).all(), f"{name} attends to the future: is that really the pattern?"

    # Positions never enter the residual stream here (shortformer), so layer 0 reads the embeddings.
    embed = load_file(DATA / "weights.safetensors")["W_E"][tokens]
    for name in ("hook_embed", "blocks.0.hook_resid_pre"):
        assert name in cache, f"no {name!r} in the cache"
        torch.testing.assert_close(cache[name], embed, msg=f"cache[{name!r}] should be W_E[tokens]")

    hooks = model.blocks[0].attn.hook_pattern._forward_hooks
    assert len(hooks) == 0, f"{len(hooks)} forward hook(s) left on blocks.0.attn.hook_pattern: remove them"


@pytest.mark.points(1)
def test_ablating_a_head_changes_the_logits_and_leaves_no_hook(student):
    model = student.load_model("weights.safetensors")
    tokens = torch.tensor([[0, 7, 21, 40, 3, 7, 21, 40]])
    plain = model(tokens)
    got = student.ablate_head(model, tokens, 0, 2)
    assert isinstance(got, torch.Tensor), f"ablate_head returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 8, 64), f"ablate_head gave shape {tuple(got.shape)}, expected the logits' (1, 8, 64)"
    assert not torch.allclose(got, plain, atol=1e-3), (
        "ablate_head gave the plain logits: the hook must return the changed output"
    )
    torch.testing.assert_close(model(tokens), plain, msg="a plain run after ablate_head is still ablated")


@pytest.mark.points(1)
def test_adding_zero_changes_nothing_and_a_vector_changes_its_position_onward(student):
    model = student.load_model("weights.safetensors")
    tokens = torch.tensor([[0, 7, 21, 40, 3, 7, 21, 40], [0, 1, 2, 3, 4, 5, 6, 7]])
    plain = model(tokens)
    same = student.add_to_residual(model, tokens, 1, torch.zeros(64), 3)
    assert isinstance(same, torch.Tensor), f"add_to_residual returned {type(same).__name__}, expected a tensor"
    torch.testing.assert_close(same, plain, msg="adding a zero vector should change nothing")
    got = student.add_to_residual(model, tokens, 1, torch.ones(64), 3)
    torch.testing.assert_close(got[:, :3], plain[:, :3], msg="positions before pos cannot see the change (causal)")
    assert not torch.allclose(got[:, 3], plain[:, 3], atol=1e-3), "position 3 did not change"
    torch.testing.assert_close(model(tokens), plain, msg="a plain run after add_to_residual is still changed")
