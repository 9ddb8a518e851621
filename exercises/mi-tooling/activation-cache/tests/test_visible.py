"""Visible tests: shipped in the starter pack, so learners can run them offline."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.visible

DATA = Path(__file__).parent.parent / "data"


@pytest.mark.points(2)
def test_example(student):
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
